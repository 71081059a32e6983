import tensorflow as tf
from tensorflow import keras
import numpy as np

def get_data():
    mnist = keras.datasets.mnist
    (train_x, train_y), (test_x, test_y) = mnist.load_data()
    train_x = train_x.reshape(-1, 784)
    test_x = test_x.reshape(-1, 784)
    train_y = keras.utils.to_categorical(train_y)
    test_y = keras.utils.to_categorical(test_y)
    return (train_x, train_y), (test_x, test_y)

(train_x, train_y), (test_x, test_y) = get_data()
LEARNING_RATE = 0.03
model = keras.models.Sequential()
model.add(keras.layers.Dense(units=10, input_dim=784, activation="sigmoid"))
model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(lr=LEARNING_RATE), metrics=["accuracy"])
history = model.fit(x=train_x, y=train_y, epochs=10, batch_size=32, validation_data=(test_x, test_y))
