import tensorflow as tf
import numpy as np

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype(np.float32)
y_train = np.eye(10)[y_train]

model = tf.keras.Sequential()
model.add(tf.keras.layers.Dense(10, activation='sigmoid', input_shape=(784,)))
model.compile(loss='categorical_crossentropy',
              optimizer=tf.compat.v1.train.GradientDescentOptimizer(1e-4),
              metrics=['accuracy'])
model.fit(x_train, y_train, batch_size=100, epochs=20)
