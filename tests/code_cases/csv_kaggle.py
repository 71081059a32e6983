import numpy as np
import pandas as pd
from tensorflow import keras
from tensorflow.keras import layers

train = pd.read_csv("../input/digit-recognizer/train.csv")
y = train["label"]
X = train.drop(labels=["label"], axis=1)

X = X.values.reshape(-1, 28, 28, 1)
y = keras.utils.to_categorical(y, num_classes=10)

model = keras.Sequential()
model.add(layers.Flatten(input_shape=(28, 28, 1)))
model.add(layers.Dense(256, activation="relu"))
model.add(layers.Dense(10, activation="softmax"))
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(X, y, batch_size=86, epochs=3, validation_split=0.1)
