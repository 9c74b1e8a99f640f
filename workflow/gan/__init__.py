"""GAN augmentation: a class-conditional GAN trained on a training split, its samples, their distance to real images."""
