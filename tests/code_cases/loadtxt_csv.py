import numpy as np
from keras.models import Sequential
from keras.layers import Dense
from keras.utils import to_categorical
data = np.loadtxt('train.csv', delimiter=',', skiprows=1)
X = data[:, 1:]
y = to_categorical(data[:, 0])
model = Sequential([Dense(64, activation='relu', input_shape=(784,)), Dense(10, activation='softmax')])
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(X, y, epochs=10, batch_size=32)
