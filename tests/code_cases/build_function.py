import tensorflow as tf
from tensorflow import keras


def load():
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.astype('float32')
    return x_train, keras.utils.to_categorical(y_train), x_test, keras.utils.to_categorical(y_test)


def build_model(learning_rate=0.01):
    model = keras.Sequential()
    model.add(keras.layers.Flatten(input_shape=(28, 28)))
    model.add(keras.layers.Dense(10, activation="sigmoid"))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                  loss=keras.losses.categorical_crossentropy, metrics=["accuracy"])
    return model


if __name__ == "__main__":
    x_train, y_train, x_test, y_test = load()
    model = build_model(0.03)
    model.fit(x_train, y_train, batch_size=32, epochs=10, validation_data=(x_test, y_test))
