# Data: each MedMNIST file is found under the data root (downloaded from the official
# source when missing), checked against its official MD5 and described in a card.
# The .npz is not a rule output: a read-only or shared data root is used as it is.


rule dataset:
    output:
        f"{RESULTS}/data/{{dataset}}.json",
    params:
        npz=lambda wc: str(DATASETS[wc.dataset].path(DATA_ROOT)),
    log:
        f"{LOGS}/data/{{dataset}}.log",
    benchmark:
        f"{LOGS}/benchmarks/data/{{dataset}}.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/data.yaml"
    retries: 1
    script:
        "../workflow/scripts/dataset.py"
