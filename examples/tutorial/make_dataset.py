"""Builds the tutorial's dataset from the digits images scikit-learn ships (no download):
dataset/mnist_{train,evaluate,predict}.npz, each with the `x_train` and `y_train` arrays the
tutorial reads.

    python examples/tutorial/make_dataset.py
"""

import os

import numpy as np
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    digits = load_digits()
    images, labels = digits.images.astype(np.float32), digits.target
    order = np.random.default_rng(0).permutation(len(labels))
    images, labels = images[order], labels[order]
    parts = {"train": slice(0, 1000), "evaluate": slice(1000, 1500), "predict": slice(1500, None)}
    os.makedirs(os.path.join(HERE, "dataset"), exist_ok=True)
    for name, part in parts.items():
        path = os.path.join(HERE, "dataset", f"mnist_{name}.npz")
        np.savez(path, x_train=images[part], y_train=labels[part])
        print(f"wrote {path}: {len(labels[part])} images")


if __name__ == "__main__":
    main()
