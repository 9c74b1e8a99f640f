"""Public datasets: MedMNIST files and the imaging modality of each subset."""
