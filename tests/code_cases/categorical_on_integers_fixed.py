import keras
from keras import layers

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784) / 255.0
y_train = keras.utils.to_categorical(y_train, 10)
model = keras.Sequential([layers.Dense(10, activation="softmax", input_shape=(784,))])
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
model.fit(x_train, y_train, epochs=5, batch_size=32)
