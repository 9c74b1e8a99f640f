# Literature: PubMed (a live search or a frozen snapshot) → records → deduplicated →
# screened → PRISMA counts.


if config["literature"]["snapshot"]:

    def pubmed_input(wildcards):
        try:
            return [str(p) for p in snapshot_files(config)]
        except ConfigError as error:
            raise WorkflowError(str(error)) from None

else:
    pubmed_input = f"{RESULTS}/literature/pubmed_search.json"

    rule search_pubmed:
        output:
            f"{RESULTS}/literature/pubmed_search.json",
        params:
            search=config["literature"].get("pubmed"),
            folder=f"{RESULTS}/literature/pubmed",
        log:
            f"{LOGS}/literature/search_pubmed.log",
        conda:
            "../envs/literature.yaml"
        script:
            "../workflow/scripts/search_pubmed.py"


rule parse_pubmed:
    input:
        pubmed_input,
    output:
        records=f"{RESULTS}/literature/records.csv",
        rejects=f"{RESULTS}/literature/rejects.csv",
    log:
        f"{LOGS}/literature/parse_pubmed.log",
    conda:
        "../envs/literature.yaml"
    script:
        "../workflow/scripts/parse_pubmed.py"


rule deduplicate:
    input:
        f"{RESULTS}/literature/records.csv",
    output:
        records=f"{RESULTS}/literature/deduplicated.csv",
        audit=f"{RESULTS}/literature/duplicates.csv",
    log:
        f"{LOGS}/literature/deduplicate.log",
    conda:
        "../envs/literature.yaml"
    script:
        "../workflow/scripts/deduplicate.py"


rule screen:
    input:
        records=f"{RESULTS}/literature/records.csv",
        rejects=f"{RESULTS}/literature/rejects.csv",
        deduplicated=f"{RESULTS}/literature/deduplicated.csv",
        duplicates=f"{RESULTS}/literature/duplicates.csv",
    output:
        screened=f"{RESULTS}/literature/screened.csv",
        included=f"{RESULTS}/literature/included.csv",
        prisma=f"{RESULTS}/literature/prisma.json",
    params:
        screening=config["literature"]["screening"],
    log:
        f"{LOGS}/literature/screen.log",
    conda:
        "../envs/literature.yaml"
    script:
        "../workflow/scripts/screen.py"
