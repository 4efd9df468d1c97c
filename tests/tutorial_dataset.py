"""Builds the dataset of the spec's tutorial from the digits images scikit-learn ships (no
download): DIR/mnist_{train,evaluate,predict}.npz, each with the `x_train` and `y_train` arrays
the tutorial reads.

    python tests/tutorial_dataset.py DIR
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_digits


def main(directory: str) -> None:
    digits = load_digits()
    images, labels = digits.images.astype(np.float32), digits.target
    order = np.random.default_rng(0).permutation(len(labels))
    images, labels = images[order], labels[order]
    parts = {"train": slice(0, 1000), "evaluate": slice(1000, 1500), "predict": slice(1500, None)}
    os.makedirs(directory, exist_ok=True)
    for name, part in parts.items():
        path = os.path.join(directory, f"mnist_{name}.npz")
        np.savez(path, x_train=images[part], y_train=labels[part])
        print(f"wrote {path}: {len(labels[part])} images")


if __name__ == "__main__":
    main(sys.argv[1])
