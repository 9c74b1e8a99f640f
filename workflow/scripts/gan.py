"""Snakemake script: train the conditional GAN on one dataset's training split (one seed),
write labelled synthetic images, the few a sample grid shows, and their KID to the real
test images."""

import json
import math

import numpy as np
import torch

from workflow.data.medmnist import Dataset, load_splits
from workflow.gan.kid import distance
from workflow.gan.settings import GanSettings
from workflow.gan.training import sample, synthetic_labels, train_gan
from workflow.logs import log_to
from workflow.report.gan_report import first_per_class
from workflow.train.engine import pick_device

KID_IMAGES = 2000  # at most this many images per set enter the KID (kernel matrices grow as n²)

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    dataset = Dataset.from_id(snakemake.wildcards.dataset)
    seed = int(snakemake.wildcards.seed)
    settings = GanSettings(**snakemake.params.settings)
    splits = load_splits(dataset, snakemake.params.npz)
    train_images, train_labels = splits["train"]
    generator, training = train_gan(train_images, train_labels, dataset.n_classes, settings, seed, pick_device(snakemake.params.device))
    labels = synthetic_labels(train_labels, math.ceil(snakemake.params.ratio * len(train_images)), settings.labels)
    images = sample(generator, labels, seed, channels_last=train_images.ndim == 4)
    np.savez_compressed(snakemake.output.synthetic, images=images, labels=labels)
    shown, shown_labels = first_per_class(images, labels)
    np.savez_compressed(snakemake.output.samples, images=shown, labels=shown_labels)
    test, val = splits["test"][0][:KID_IMAGES], splits["val"][0][:KID_IMAGES]
    metrics = {
        "dataset": dataset.id,
        "seed": seed,
        "settings": snakemake.params.settings,
        "training": training,
        "synthetic_images": len(images),
        "synthetic_per_class": {str(c): int(n) for c, n in zip(*np.unique(labels, return_counts=True))},
        "distance": {
            "metric": "KID (unbiased MMD², cubic polynomial kernel) on fixed random conv features, vs the test split",
            "synthetic": distance(test, images[:KID_IMAGES]),
            "real_val": distance(test, val),  # the floor: two real samples of the same distribution
        },
    }
    with open(snakemake.output.metrics, "w") as handle:
        json.dump(metrics, handle, indent=2)
