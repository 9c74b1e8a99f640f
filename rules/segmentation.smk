# Segmentation (optional config section `segmentation`): each dataset is prepared once
# (MD5 check, masks, resize, split), then one job per (dataset, model, seed), then the report.

SEGMENTATION = config.get("segmentation") if config.get("segmentation", {}).get("enabled", True) else None

if SEGMENTATION:
    SEG_RESULTS = f"{RESULTS}/segmentation"
    SEG_MODELS = SEGMENTATION["models"]

    for _name, _entry in SEG_MODELS.items():
        try:
            _spec = get_model(_entry["arch"])
        except KeyError as error:
            raise WorkflowError(f"invalid configuration: segmentation.models.{_name}.arch: {error.args[0]}") from None
        if _spec.task != "segmentation":
            raise WorkflowError(
                f"invalid configuration: segmentation.models.{_name}.arch: {_spec.name} is a {_spec.task} model, "
                "not a segmentation model"
            )

    def segmentation_metrics():
        return expand(
            f"{SEG_RESULTS}/runs/{{segset}}/{{segmodel}}/seed{{seed}}/metrics.json",
            segset=SEGMENTATION["datasets"],
            segmodel=SEG_MODELS,
            seed=SEGMENTATION["seeds"],
        )

    localrules:
        segmentation_dataset,  # may download (HC18, Montgomery): runs on the submitting host, which has the internet

    rule segmentation_dataset:
        output:
            temp(f"{SEG_RESULTS}/data/{{segset}}.npz"),  # prepared from the data root again when a run needs it
        params:
            root=str(DATA_ROOT / "segmentation"),
            size=SEGMENTATION["size"],
        wildcard_constraints:
            segset="|".join(SEGMENTATION["datasets"]),
        log:
            f"{LOGS}/segmentation/data/{{segset}}.log",
        conda:
            "../envs/segmentation.yaml"
        script:
            "../workflow/scripts/segmentation_dataset.py"

    rule segmentation_train:
        input:
            npz=f"{SEG_RESULTS}/data/{{segset}}.npz",
        output:
            metrics=f"{SEG_RESULTS}/runs/{{segset}}/{{segmodel}}/seed{{seed}}/metrics.json",
            log=f"{SEG_RESULTS}/runs/{{segset}}/{{segmodel}}/seed{{seed}}/log.csv",
            cases=f"{SEG_RESULTS}/runs/{{segset}}/{{segmodel}}/seed{{seed}}/cases.csv",
            predictions=f"{SEG_RESULTS}/runs/{{segset}}/{{segmodel}}/seed{{seed}}/predictions.npz",
        params:
            model=lambda wc: SEG_MODELS[wc.segmodel],
            recipe=SEGMENTATION["recipe"],
            size=SEGMENTATION["size"],
            device=SEGMENTATION["device"],
            model_files=config["benchmark"]["model_files"],
            profile=config["profile"],
        wildcard_constraints:
            segset="|".join(SEGMENTATION["datasets"]),
            segmodel="|".join(SEG_MODELS),
        threads: SEGMENTATION["threads"]
        log:
            f"{LOGS}/segmentation/runs/{{segset}}/{{segmodel}}/seed{{seed}}.log",
        conda:
            "../envs/segmentation.yaml"
        script:
            "../workflow/scripts/segmentation_train.py"

    rule segmentation_report:
        input:
            metrics=segmentation_metrics(),
        output:
            table=report(
                f"{RESULTS}/report/segmentation.csv",
                category="Segmentation",
                caption="../report/segmentation_table.rst",
                subcategory="Tables",
                labels={"table": "Dice and HD95"},
            ),
            markdown=f"{RESULTS}/report/segmentation.md",
            latex=f"{RESULTS}/report/segmentation.tex",
            figure=report(
                f"{RESULTS}/report/segmentation_overlays.png",
                category="Segmentation",
                caption="../report/segmentation_overlays.rst",
                subcategory="Figures",
                labels={"figure": "overlays"},
            ),
            svg=f"{RESULTS}/report/segmentation_overlays.svg",
        params:
            profile=config["profile"],
            overlays=SEGMENTATION["overlays"],
        log:
            f"{LOGS}/report/segmentation.log",
        conda:
            "../envs/segmentation.yaml"
        script:
            "../workflow/scripts/segmentation_report.py"
