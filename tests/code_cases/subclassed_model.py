import tensorflow as tf
from tensorflow.keras import layers
class MyModel(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.flatten = layers.Flatten()
        self.d1 = layers.Dense(128, activation='relu')
        self.d2 = layers.Dense(10)
    def call(self, x):
        return self.d2(self.d1(self.flatten(x)))
(x_train, y_train), _ = tf.keras.datasets.mnist.load_data()
model = MyModel()
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, epochs=5)
