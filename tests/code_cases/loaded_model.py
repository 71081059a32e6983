from tensorflow import keras

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
model = keras.models.load_model("my_model.h5")
model.fit(x_train / 255.0, keras.utils.to_categorical(y_train), epochs=2)
