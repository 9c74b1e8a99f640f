# Segmentation (optional config section `segmentation`): each 2-D dataset is prepared once
# (checks, training grid, card) and each 3-D one described once (download, checks, card),
# then one job per (dataset, model, seed), then the report and the comparison with
# published results.

SEGMENTATION = config.get("segmentation") if config.get("segmentation", {}).get("enabled", True) else None
if SEGMENTATION and not SEGMENTATION["datasets"] and not SEGMENTATION.get("volumes", {}).get("datasets"):
    SEGMENTATION = None  # a section without a dataset: nothing to run, nothing to report
RECIPE_KEYS = ("epochs", "batch_size", "samples", "val_every")  # the recipe keys a dataset's settings may give

if SEGMENTATION:
    SEG_RESULTS = f"{RESULTS}/segmentation"
    SEG_MODELS = SEGMENTATION["models"]
    SEG_SETTINGS = SEGMENTATION.get("settings", {})
    VOLUMES = SEGMENTATION.get("volumes", {"datasets": [], "models": {}, "settings": {}})
    VOL_MODELS = VOLUMES["models"]
    for _section, _datasets, _settings, _models in (
        ("segmentation", SEGMENTATION["datasets"], SEG_SETTINGS, SEG_MODELS),
        ("segmentation.volumes", VOLUMES["datasets"], VOLUMES["settings"], VOL_MODELS),
    ):
        for _name in _datasets:
            if _name not in _settings:
                raise WorkflowError(
                    f"invalid configuration: {_section}.settings.{_name}: missing; each dataset of {_section}.datasets "
                    "needs its settings (2-D: tolerance_mm or tolerance_px, and size or patch; 3-D: spacing, patch, tolerance_mm)"
                )
            for _model in _settings[_name].get("models", []):
                if _model not in _models:
                    raise WorkflowError(
                        f"invalid configuration: {_section}.settings.{_name}.models: {_model!r} is not an entry "
                        f"of {_section}.models ({', '.join(_models)})"
                    )

    def segmentation_models(dataset: str) -> list[str]:
        """The models trained on a 2-D dataset: its settings' list, or every entry."""
        return SEG_SETTINGS[dataset].get("models", list(SEG_MODELS))

    def volume_models(volset: str) -> list[str]:
        """The 3-D models trained on a volume dataset: its settings' list, or every entry."""
        return VOLUMES["settings"][volset].get("models", list(VOL_MODELS))

    def dataset_recipe(recipe: dict, settings: dict) -> dict:
        """The section's recipe with the dataset's own epochs, batch size... in its place."""
        return {**recipe, **{key: settings[key] for key in RECIPE_KEYS if key in settings}}

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
        return [
            f"{SEG_RESULTS}/runs/{segset}/{segmodel}/seed{seed}/metrics.json"
            for segset in SEGMENTATION["datasets"]
            for segmodel in segmentation_models(segset)
            for seed in SEGMENTATION["seeds"]
        ] + [
            f"{SEG_RESULTS}/runs/{volset}/{volmodel}/seed{seed}/metrics.json"
            for volset in VOLUMES["datasets"]
            for volmodel in volume_models(volset)
            for seed in SEGMENTATION["seeds"]
        ]

    def segmentation_predictions():
        """The first seed's test predictions of every run: the overlays draw from them."""
        seed = SEGMENTATION["seeds"][0]
        return [f"{SEG_RESULTS}/runs/{name}/{model}/seed{seed}/predictions.npz" for name in SEGMENTATION["datasets"] for model in segmentation_models(name)] + [
            f"{SEG_RESULTS}/runs/{name}/{model}/seed{seed}/predictions.npz" for name in VOLUMES["datasets"] for model in volume_models(name)
        ]

    def segmentation_cards():
        return [f"{SEG_RESULTS}/data/{name}.json" for name in [*SEGMENTATION["datasets"], *VOLUMES["datasets"]]]

    localrules:
        segmentation_dataset,  # may download (HC18, Montgomery): runs on the submitting host, which has the internet
        segmentation_volumes,  # may download (Decathlon tasks)

    if SEGMENTATION["datasets"]:

        rule segmentation_dataset:
            output:
                # kept: a temporary file would be made again for a new run, and every run of its dataset with it
                # (never in the repository: it holds the licensed images; .gitignore)
                npz=f"{SEG_RESULTS}/data/{{segset}}.npz",
                card=f"{SEG_RESULTS}/data/{{segset}}.json",  # source, terms, citation, classes, splits, set aside, cases
            params:
                root=str(DATA_ROOT / "segmentation"),
                settings=lambda wc: SEG_SETTINGS[wc.segset],
            wildcard_constraints:
                segset="|".join(SEGMENTATION["datasets"]),
            log:
                f"{LOGS}/segmentation/data/{{segset}}.log",
            benchmark:
                f"{LOGS}/benchmarks/segmentation/data/{{segset}}.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
            conda:
                "../envs/segmentation.yaml"
            script:
                "../workflow/scripts/segmentation_dataset.py"

        rule segmentation_train:
            input:
                npz=f"{SEG_RESULTS}/data/{{segset}}.npz",
                card=f"{SEG_RESULTS}/data/{{segset}}.json",
                model_file=lambda wc: model_source(SEG_MODELS[wc.segmodel]["arch"]),
            output:
                metrics=f"{SEG_RESULTS}/runs/{{segset}}/{{segmodel}}/seed{{seed}}/metrics.json",
                log=f"{SEG_RESULTS}/runs/{{segset}}/{{segmodel}}/seed{{seed}}/log.csv",
                cases=f"{SEG_RESULTS}/runs/{{segset}}/{{segmodel}}/seed{{seed}}/cases.csv",
                predictions=f"{SEG_RESULTS}/runs/{{segset}}/{{segmodel}}/seed{{seed}}/predictions.npz",
            params:
                root=str(DATA_ROOT / "segmentation"),
                model=lambda wc: SEG_MODELS[wc.segmodel],
                settings=lambda wc: SEG_SETTINGS[wc.segset],
                recipe=lambda wc: dataset_recipe(SEGMENTATION["recipe"], SEG_SETTINGS[wc.segset]),
                device=SEGMENTATION["device"],
                model_files=lambda wc: model_source(SEG_MODELS[wc.segmodel]["arch"]),
                profile=config["profile"],
            wildcard_constraints:
                segset="|".join(SEGMENTATION["datasets"]),
                segmodel="|".join(SEG_MODELS),
            threads: SEGMENTATION["threads"]
            log:
                f"{LOGS}/segmentation/runs/{{segset}}/{{segmodel}}/seed{{seed}}.log",
            benchmark:
                f"{LOGS}/benchmarks/segmentation/runs/{{segset}}/{{segmodel}}/seed{{seed}}.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
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
            benchmark:
                f"{LOGS}/benchmarks/segmentation/data/{{volset}}.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
            conda:
                "../envs/segmentation.yaml"
            script:
                "../workflow/scripts/segmentation_volumes.py"

        rule segmentation_volume_train:
            input:
                description=f"{SEG_RESULTS}/data/{{volset}}.json",
                model_file=lambda wc: model_source(VOL_MODELS[wc.volmodel]["arch"]),
            output:
                metrics=f"{SEG_RESULTS}/runs/{{volset}}/{{volmodel}}/seed{{seed}}/metrics.json",
                log=f"{SEG_RESULTS}/runs/{{volset}}/{{volmodel}}/seed{{seed}}/log.csv",
                cases=f"{SEG_RESULTS}/runs/{{volset}}/{{volmodel}}/seed{{seed}}/cases.csv",
                predictions=f"{SEG_RESULTS}/runs/{{volset}}/{{volmodel}}/seed{{seed}}/predictions.npz",
            params:
                root=str(DATA_ROOT / "segmentation"),
                model=lambda wc: VOL_MODELS[wc.volmodel],
                settings=lambda wc: VOLUMES["settings"][wc.volset],
                recipe=lambda wc: dataset_recipe(VOLUMES["recipe"], VOLUMES["settings"][wc.volset]),
                device=SEGMENTATION["device"],
                model_files=lambda wc: model_source(VOL_MODELS[wc.volmodel]["arch"]),
                profile=config["profile"],
            wildcard_constraints:
                volset="|".join(VOLUMES["datasets"]),
                volmodel="|".join(VOL_MODELS),
            threads: SEGMENTATION["threads"]
            priority: 1  # the longest jobs: started first, so that no core idles at the end
            log:
                f"{LOGS}/segmentation/runs/{{volset}}/{{volmodel}}/seed{{seed}}.log",
            benchmark:
                f"{LOGS}/benchmarks/segmentation/runs/{{volset}}/{{volmodel}}/seed{{seed}}.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
            conda:
                "../envs/segmentation.yaml"
            script:
                "../workflow/scripts/segmentation_volume_train.py"

    rule segmentation_report:
        input:
            metrics=segmentation_metrics(),
            cards=segmentation_cards(),
        output:
            table=report(
                f"{RESULTS}/report/segmentation.csv",
                category="Segmentation",
                caption="../report/segmentation_table.rst",
                subcategory="Tables",
                labels={"table": "Dice, HD95, surface Dice"},
            ),
            markdown=f"{RESULTS}/report/segmentation.md",
            latex=f"{RESULTS}/report/segmentation.tex",
            published=report(
                f"{RESULTS}/report/segmentation_vs_published.csv",
                category="Segmentation",
                caption="../report/segmentation_vs_published.rst",
                subcategory="Tables",
                labels={"table": "beside published results"},
            ),
            published_markdown=f"{RESULTS}/report/segmentation_vs_published.md",
            curves=report(
                f"{RESULTS}/report/segmentation_curves.png",
                category="Segmentation",
                caption="../report/segmentation_curves.rst",
                subcategory="Figures",
                labels={"figure": "validation Dice per epoch"},
            ),
            curves_svg=f"{RESULTS}/report/segmentation_curves.svg",
        params:
            profile=config["profile"],
        log:
            f"{LOGS}/report/segmentation.log",
        benchmark:
            f"{LOGS}/benchmarks/report/segmentation.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
        conda:
            "../envs/segmentation.yaml"
        script:
            "../workflow/scripts/segmentation_report.py"

    rule segmentation_overlays:
        input:
            metrics=segmentation_metrics(),
            # not in the repository for datasets whose terms forbid copying their images: a clone
            # keeps the kept figure (`make figures` says so) and remakes it once the runs are made here
            predictions=segmentation_predictions(),
        output:
            figure=report(
                f"{RESULTS}/report/segmentation_overlays.png",
                category="Segmentation",
                caption="../report/segmentation_overlays.rst",
                subcategory="Figures",
                labels={"figure": "overlays"},
            ),
            svg=f"{RESULTS}/report/segmentation_overlays.svg",
        params:
            overlays=SEGMENTATION["overlays"],
        log:
            f"{LOGS}/report/segmentation_overlays.log",
        benchmark:
            f"{LOGS}/benchmarks/report/segmentation_overlays.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
        conda:
            "../envs/segmentation.yaml"
        script:
            "../workflow/scripts/segmentation_overlays.py"
