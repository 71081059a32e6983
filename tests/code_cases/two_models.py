import tensorflow as tf
from tensorflow import keras

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_scaled = x_train / 255.0
y_onehot = keras.utils.to_categorical(y_train)

small = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)), keras.layers.Dense(10, activation="softmax")])
small.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
small.fit(x_scaled, y_onehot, epochs=2)

big = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(10, activation="sigmoid"),
])
big.compile(optimizer=keras.optimizers.SGD(learning_rate=0.03), loss="categorical_crossentropy", metrics=["accuracy"])
big.fit(x_train, y_onehot, epochs=2)
