# Segmentation (optional config section `segmentation`): each 2-D dataset is prepared once
# (MD5 check, masks, resize, split) and each 3-D one described once (download, checks, card),
# then one job per (dataset, model, seed), then the report.

SEGMENTATION = config.get("segmentation") if config.get("segmentation", {}).get("enabled", True) else None

if SEGMENTATION:
    SEG_RESULTS = f"{RESULTS}/segmentation"
    SEG_MODELS = SEGMENTATION["models"]
    VOLUMES = SEGMENTATION.get("volumes", {"datasets": [], "models": {}, "settings": {}})
    VOL_MODELS = VOLUMES["models"]
    for _name in VOLUMES["datasets"]:
        if _name not in VOLUMES["settings"]:
            raise WorkflowError(
                f"invalid configuration: segmentation.volumes.settings.{_name}: missing; each dataset of "
                "segmentation.volumes.datasets needs its spacing, patch and tolerance_mm (and window for CT)"
            )
        for _model in VOLUMES["settings"][_name].get("models", []):
            if _model not in VOL_MODELS:
                raise WorkflowError(
                    f"invalid configuration: segmentation.volumes.settings.{_name}.models: {_model!r} is not an entry "
                    f"of segmentation.volumes.models ({', '.join(VOL_MODELS)})"
                )

    def volume_models(volset: str) -> list[str]:
        """The 3-D models trained on a volume dataset: its settings' list, or every entry."""
        return VOLUMES["settings"][volset].get("models", list(VOL_MODELS))

    for _section, _models in (("segmentation.models", SEG_MODELS), ("segmentation.volumes.models", VOL_MODELS)):
        for _name, _entry in _models.items():
            try:
                _spec = get_model(_entry["arch"])
            except KeyError as error:
                raise WorkflowError(f"invalid configuration: {_section}.{_name}.arch: {error.args[0]}") from None
            if _spec.task != "segmentation":
                raise WorkflowError(
                    f"invalid configuration: {_section}.{_name}.arch: {_spec.name} is a {_spec.task} model, "
                    "not a segmentation model"
                )

    def segmentation_metrics():
        flat = expand(
            f"{SEG_RESULTS}/runs/{{segset}}/{{segmodel}}/seed{{seed}}/metrics.json",
            segset=SEGMENTATION["datasets"],
            segmodel=SEG_MODELS,
            seed=SEGMENTATION["seeds"],
        )
        return flat + [
            f"{SEG_RESULTS}/runs/{volset}/{volmodel}/seed{seed}/metrics.json"
            for volset in VOLUMES["datasets"]
            for volmodel in volume_models(volset)
            for seed in SEGMENTATION["seeds"]
        ]

    localrules:
        segmentation_dataset,  # may download (HC18, Montgomery): runs on the submitting host, which has the internet
        segmentation_volumes,  # may download (Decathlon tasks)

    rule segmentation_dataset:
        output:
            npz=temp(f"{SEG_RESULTS}/data/{{segset}}.npz"),  # prepared from the data root again when a run needs it
            card=f"{SEG_RESULTS}/data/{{segset}}.json",  # source, licence, citation, checksums, splits, set aside
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
            tolerance_mm=SEGMENTATION["tolerance_mm"],
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

    if VOLUMES["datasets"]:

        rule segmentation_volumes:
            output:
                f"{SEG_RESULTS}/data/{{volset}}.json",  # the dataset card and its usable cases by split
            params:
                root=str(DATA_ROOT / "segmentation"),
            wildcard_constraints:
                volset="|".join(VOLUMES["datasets"]),
            log:
                f"{LOGS}/segmentation/data/{{volset}}.log",
            conda:
                "../envs/segmentation.yaml"
            script:
                "../workflow/scripts/segmentation_volumes.py"

        rule segmentation_volume_train:
            input:
                description=f"{SEG_RESULTS}/data/{{volset}}.json",
            output:
                metrics=f"{SEG_RESULTS}/runs/{{volset}}/{{volmodel}}/seed{{seed}}/metrics.json",
                log=f"{SEG_RESULTS}/runs/{{volset}}/{{volmodel}}/seed{{seed}}/log.csv",
                cases=f"{SEG_RESULTS}/runs/{{volset}}/{{volmodel}}/seed{{seed}}/cases.csv",
                predictions=f"{SEG_RESULTS}/runs/{{volset}}/{{volmodel}}/seed{{seed}}/predictions.npz",
            params:
                root=str(DATA_ROOT / "segmentation"),
                model=lambda wc: VOL_MODELS[wc.volmodel],
                dataset=lambda wc: VOLUMES["settings"][wc.volset],
                recipe=VOLUMES["recipe"],
                device=SEGMENTATION["device"],
                model_files=config["benchmark"]["model_files"],
                profile=config["profile"],
            wildcard_constraints:
                volset="|".join(VOLUMES["datasets"]),
                volmodel="|".join(VOL_MODELS),
            threads: SEGMENTATION["threads"]
            log:
                f"{LOGS}/segmentation/runs/{{volset}}/{{volmodel}}/seed{{seed}}.log",
            conda:
                "../envs/segmentation.yaml"
            script:
                "../workflow/scripts/segmentation_volume_train.py"

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
