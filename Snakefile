# dlmia: a reproducible review and benchmark of deep learning for medical image analysis.
#   snakemake --cores 2                                    # quick profile (config.yaml)
#   snakemake --cores all --configfile config/full.yaml    # the full benchmark
import os
import sys

from snakemake.utils import min_version

min_version("9.0")

# The rules call the `workflow` package next to this file; jobs inherit the path.
sys.path.insert(0, workflow.basedir)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p)
# Training jobs may overlap: idle OpenMP threads must not spin on the shared cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# The base configuration: config.yaml, or the file named by DLMIA_CONFIG (which cluster
# jobs inherit with the rest of the environment). --configfile extends it.
configfile: os.environ.get("DLMIA_CONFIG") or os.path.join(workflow.basedir, "config.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"


if LITERATURE:

    include: "rules/literature.smk"


include: "rules/data.smk"
include: "rules/benchmark.smk"
include: "rules/gan.smk"
include: "rules/report.smk"
include: "rules/segmentation.smk"
include: "rules/trust.smk"


# These need the internet or only gather results: on a cluster they run on the submitting host.
localrules:
    all,
    search_pubmed,
    dataset,


rule all:
    input:
        final_outputs(),
