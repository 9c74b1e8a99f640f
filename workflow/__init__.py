"""dlmia: a reproducible review and benchmark of deep learning for medical image analysis.

Each subpackage holds one stage of the pipeline and knows nothing about Snakemake:
``literature`` (records, deduplication, screening, PRISMA counts), ``data`` (MedMNIST files
and modalities), ``models`` (a registry of networks), ``train`` (engine and metrics) and
``report`` (tables and figures). ``scripts`` holds the thin entry points the rules call.
"""
