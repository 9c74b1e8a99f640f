"""Reported metrics: the (metric, value) pairs that an included record's title and abstract state.

Metrics: accuracy, AUC, Dice, IoU, sensitivity, specificity, precision, F1, Hausdorff
distance (``hd95``) and mean absolute error (``mae``). Ratio metrics are normalised to a
fraction in [0, 1] ("96.1%" and a bare "96.1" both give 0.961); ``hd95`` and ``mae`` keep
their number, with unit ``mm`` when the abstract says so and ``other`` otherwise. A range
("between 0.85 and 0.92") keeps both ends, "0.91 ± 0.02" keeps its spread, a list gives one
pair per number, and each pair is marked ``proposed`` or ``comparison`` (a baseline, an
existing method, human readers). Differences ("improved Dice by 4.4%"), confidence
intervals, p-values, counts and years are not pairs. One pair per record is the
``headline``: the first proposed single value of the highest-ranked metric in ``PRIORITY``
(a range only when there is no single value). The rules are those of
``tests/data/reported_metrics_samples.md``, which the extractor is measured against.

Precision before recall: a number is a metric's value only where the sentence says so (the
number right after the name, before it, in a list zipped with a list of names, or carrying
on a list of that name's values); where a reader could not tell which metric a number is
("recall/precision of 0.85", a "respectively" list longer than its names, a value two
measures away from the name), it is left out rather than guessed. Other measures (MSE,
surface distances, Bland-Altman bias and limits of agreement, ejection fractions, learning
rates) are recognised only so that their numbers go to no metric. Decimal commas ("0,85")
and a second-language copy of an abstract are read as such; its repeated pairs count once.
LaTeX (PubMed's MathML exported as whole LaTeX documents, inline ``$...$``) is read as the
text it typesets (pylatexenc), and dropped where it repeats the text before it.

Plain regular expressions over the text, not spaCy's ``Matcher`` on ``spacy.blank("en")``:
a blank pipeline has no tagger or parser, so its patterns would only restate these
expressions token by token, while the hard parts are below the token: "0·973", "97.35%",
"4.5±0.96", "0.85-0.92" and LaTeX fragments split differently under its tokenizer, and
attaching numbers to metrics needs the characters between them (" for the ", ", and ",
"vs"), which the expressions read directly. A trained sentence splitter (pySBD 0.3.4) splits
28 of 400 included abstracts differently from ``sentences`` (abbreviations, enumerations),
while the errors left on the development samples are in attaching numbers to names.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass

import pandas as pd
from pylatexenc.latex2text import LatexNodes2Text

RATIO_METRICS = ("accuracy", "auc", "dice", "iou", "sensitivity", "specificity", "precision", "f1")
PRIORITY = ("dice", "auc", "accuracy", "iou", "f1", "sensitivity", "specificity", "precision", "hd95", "mae")

# Longer names first: a span taken by an earlier pattern is not matched again. ``None``
# marks a measure that is recognised only so that its numbers go to no metric.
METRIC_NAMES: tuple[tuple[str | None, str], ...] = (
    (None, r"balanced accuracy|average precision|(?:normali[sz]ed )?surface Dice(?: scores?| similarity coefficients?)?|(?-i:mAP|AP\d*)|negative predictive values?|NPVs?|Matthews|MCC|kappa|κ"
           r"|AUPRC|PR[- ]AUC|area under the precision[- ]recall curve|NSD|ASSD"
           r"|(?:average |mean )?(?:symmetric )?(?:surface|square|contour) distance|PSNR|SSIM|C-index|concordance index"
           r"|correlation|ICC|odds ratio|(?:classification |error )?error rate|classification error|loss"
           r"|false[- ](?:positive|negative|alarm) rates?|(?:probability of )?false alarms?|(?-i:PFA|FPR|FNR)|calibration(?: slopes?| intercepts?)?|Brier(?: scores?)?|net benefit|utility"),
    (None, r"bias(?:es)?|limits? of agreement|LoA|mean differences?|(?:left |right )?(?:ventricular )?ejection fractions?|[LR]VEF|(?-i:EF)"
           r"|learning rates?|batch size|weight decay|momentum|dropout(?: rate)?|likelihood ratios?|I2|I²|heterogeneity|(?-i:PLR|NLR|DOR|FPs?)|false[- ]positives?"),
    ("auc", r"AUROCs?|AUCs?|ROC[- ]AUC|AUC[- ]ROC|ROC curve areas?|area under (?:the )?(?:receiv\w*[- ]operat\w*(?:[- ]characteristics?)?(?: \(ROC\))? |ROC )?curves?|área bajo la curva|área sob a curva|C[- ]statistics?|(?-i:Az|A_z)(?=\s*(?:[=:)]|values?\b|of\b))"),  # "Az = 92.8%": the ROC curve's area
    ("dice", r"Sørensen[- –]Dice|Dice[- ](?:similarity[- ])?coefficients?|Dice|DSCs?|Sørensen"),
    ("iou", r"mIoU|IoU|intersection[- ]over[- ]union|Jaccard(?: similarity)?(?: index)?|(?-i:JSI)"),
    ("sensitivity", r"sensitivit(?:y|ies)|recalls?|true[- ]positive rates?|TPR|sensibilidade?s?"),
    ("specificity", r"specificit(?:y|ies)|true[- ]negative rates?|TNR|especificidade?s?"),
    ("precision", r"precisions?|PPVs?|positive predictive values?"),
    ("f1", r"F-?1(?:[- ]scores?|[- ]measures?)?|F[- ]scores?|F[- ]measures?|(?-i:Fl)(?:[- ]scores?|[- ]measures?|(?= macro\b))"),  # "Fl": F1 misread by OCR
    ("hd95", r"HD95|(?-i:HD)|95%? ?HD|Hausdorff(?: distances?)?"),
    ("mae", r"(?:mean absolute|average absolute|absolute mean) errors?|MAE"),
    ("accuracy", r"accurac(?:y|ies)|(?-i:ACC)|correct classification(?: rates?)?|exactitud|acurácia|precisión diagnóstica"),
    (None, r"(?:\w+ )?errors?|(?-i:R?MSE|RMSD|MADs?|MSSD|ASDs?|DTA)"),
)
_NAMES = [(metric, re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE)) for metric, pattern in METRIC_NAMES]

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_UNITS = r"mm[23²³]?|cm[23²³]?|ml|mL|ms|s|sec|seconds?|min|minutes?|hours?|h|kPa|Hz|MHz|GB|MB|M|K|k|x|×|px|pixels?|voxels?|years?|days?|months?|weeks?|patients?|images?|subjects?|cases?|slices?|epochs?|layers?|D|fold"
_NUMBER = re.compile(
    rf"(?<![\w.])(?<![A-Za-z]-)(?P<v>{_NUM})(?P<vp>\s*%|\s*percent\b)?(?:\s*(?P<unit0>mm|cm)(?=\s*(?:±|\+/-|\+-)))?"
    rf"(?:\s*(?:±|\+/-|\+-)\s*(?P<s>{_NUM})(?P<sp>\s*%)?)?(?:\s*(?P<unit>{_UNITS})(?![A-Za-z]))?(?:(?<=%)|(?!\w))"
)
_LATEX_BLOCK = re.compile(r"\\documentclass.*?\\begin\{document\}(.*?)\\end\{document\}", re.DOTALL)  # MathML as a whole LaTeX document
_LATEX_SPAN = re.compile(r"\$\$[^$]{0,300}\$\$|\$[^$\n]{1,200}\$|\\(?:emph|text(?:it|bf|rm|sc)?|math(?:rm|it|bf))\s*\{[^{}$]*\}")  # "$$92.83\%$$", "Dice~$\approx95\%$", "\emph{RibSeg}"
_LATEX = LatexNodes2Text()
_CI = re.compile(rf"\(?\s*(?:95\s*%\s*)?(?:CI|confidence intervals?|IQR|interquartile range)\s*(?:[:,=]|of)?\s*(?:{_NUM})\s*%?\s*(?:-|–|—|to|,)\s*(?:{_NUM})\s*%?\s*[)\]]?", re.IGNORECASE)
_BRACKETED_RANGE = re.compile(rf"(?<=[\d%])\s*[\[(]\s*(?:{_NUM})\s*%?\s*(?:[-–—]+|,)\s*(?:{_NUM})\s*%?\s*[\])]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])|\n\s*\n|\n(?=[A-Z][A-Z ]+:)")

_NOT_A_VALUE_BEFORE = re.compile(
    r"(?:(?:\b[pP]\s*(?:-?\s*values?)?|\b(?:n|N|r|R|r2|R2|ICC|OR|HR)|κ)\s*[<=>≤≥]|\b[pP][- ]?values?\s*(?::|of|was|were|is)|∈\s*[\[(]?"
    r"|\b(?:SD|s\.d\.|std|standard deviations?|IQR|interquartile range)\)*\s*(?:[:=]|of)?|±|\+/-"
    r"|\b(?:thresholds?|cut-?offs?)(?: values?)?\s*(?:of|[:=]|at|\(\s*[≥≤<>]?)?)\s*$"
)
# "0.64 and 0.90 at 0.1 and 1 false positives per scan", "1% of the parameters", "with 10% labeled data": not a metric's value.
_NOT_A_VALUE_AFTER = re.compile(r"^\s*(?:confidence\b|credible\b|CIs?\b|false[- ]positives?|FPs?\b|per\s|of (?:the )?(?:parameters|data|datasets?|cases|images|patients|time|training|labels|annotations)\b|times\b|-?fold\b|(?:un)?label+ed\b|(?:un)?annotated\b)", re.IGNORECASE)
_COUNT_BEFORE = re.compile(r"(?<![\w.,-])\d+\s+(?:[A-Za-z][\w-]*\s+){1,2}\(\s*$")
_POINT = r"(?:an?\s+|the\s+)?(?:fixed\s+|threshold\s+|given\s+)?"  # "at a fixed", "at the threshold"
_AT_BEFORE = re.compile(rf"\b(?:at|corresponding to)\s+{_POINT}$", re.IGNORECASE)
_RATE_AFTER = re.compile(r"\s*(?:sensitivity|specificity|recall|false[- ]positive rate)\b", re.IGNORECASE)
_OPERATING_POINT_BEFORE = re.compile(rf"\bat\s+{_POINT}(?:sensitivity|specificity)\s+(?:of\s+|level of\s+)?$", re.IGNORECASE)
_DELTA_BEFORE = re.compile(
    r"(?:\bby|\bimprov\w*|\bincreas\w* of|\bdecreas\w* of|\breductions? of|\bincrements? of|\bsuperiority of|\badvantage of|\bgains? of|\bdifference(?: of)?|\bmargins? of|\bboost\w*|\bwithin|\bdrops?(?: of| between)?"
    r"|\bsav\w*(?: more than| over| up to)?)\s+(?:(?:up to|more than|over|at least|approximately|about|around|nearly|almost|an average of|on average|a|an|of|maximum|minimum)\s+)*$", re.IGNORECASE
)
_TO_BEFORE = re.compile(r"(?<!up )\bto\s*$")  # "increased the AUC to 0.84", not "up to 5%"
_SIGN_BEFORE = re.compile(r"(?:^|[\s(\[,;])[+−]\s*$")  # "(+2.8 Dice points)"
_DELTA_AFTER = re.compile(
    r"^\s*(?:[A-Za-z-]+\s+){1,2}(?:improvements?|increases?|gains?|reductions?|decreases?|drops?|boosts?)\b"
    r"|^\s*(?:pp\b|p\.p\.|percentage points?)"
    r"|^\s*(?:percentage\s+)?(?:points?\s+)?(?:improvements?|increases?|gains?|higher|lower|better|worse|reductions?|decreases?|drops?|more|less|fewer|boosts?|smaller|larger)\b",
    re.IGNORECASE,
)
_DELTA_NAME_BEFORE = re.compile(
    r"\b(?:(?:increas\w*|improv\w*|reduc\w*|decreas\w*|gains?|boost\w*|drops?)\s+(?:of|in)\s+(?:the\s+)?(?:\w+\s+)?|(?:increased|decreased|reduced|boosted)\s+(?:the\s+)?)$", re.IGNORECASE
)
_DELTA_NAME_AFTER = re.compile(r"^\s*(?:scores?\s+)?(?:differences?|gains?|improvements?|increases?|drops?|decreases?|reductions?)\b", re.IGNORECASE)
_HUMAN = re.compile(r"\b(?:inter|intra)[- ]?(?:observer|rater|reader|operator)", re.IGNORECASE)  # agreement between people
_HUMAN_BEFORE = re.compile(rf"{_HUMAN.pattern}s?\s+(?:\w+\s+){{0,3}}(?:[\w-]+\s*/\s*)*$", re.IGNORECASE)  # "Interrater agreement measured in DSC/HD"
_RANGE_START = re.compile(r"(?:\bbetween|\bfrom|\brang\w*(?: from| of| between)?)\s*$", re.IGNORECASE)
_STATED = re.compile(r"(?:\bwas|\bwere|\bis|\bare|\bof|\babout|\bapproximately|\baround|:|\()\s*$", re.IGNORECASE)
_CHANGE = re.compile(r"\b(?:improv|increas|rais|boost|decreas|reduc|drop|declin|went)\w*", re.IGNORECASE)
_IN_NAME = re.compile(r"\s*(?:in|on)\s+(?:terms of\s+)?(?:the\s+)?(?:mean\s+|average\s+)?", re.IGNORECASE)
_ACHIEVE = r"(?:achiev|obtain|yield|reach|attain|record)\w*"  # the verbs that give a value
_VALUE_VERB = re.compile(rf"\b(?:{_ACHIEVE}|scor\w*)", re.IGNORECASE)
_JOIN = re.compile(r"^\s*(?:,|;|and|,\s*and|&|/)\s*(?:[≥≤<>]\s*)?$")  # "≥ 0.89 and ≤ 10.6 mm"
# Between two numbers of one list: labels of what each number is for ("93% (LV-CT), 91%",
# "0.939 left ventricular cavity, 0.861", "SA 91.41%, LA 89.63%"), no digits, ":" or "=".
_LABEL = r"(?:\([^()\d]*\)\s*)?(?:(?:for|in|on|of)\s+(?:the\s+|an?\s+)?)?(?:(?:[A-Za-z]|\d+-[A-Za-z])[\w'+-]*\s*){0,8}(?:\([^()\d]*\)\s*)?"
# "0.91 ..., which was higher than 0.82 for the level set": the same metric's value of another method
_COMPARED_GAP = re.compile(r"^[^.;:=\d]{0,60}?(?:\bthan|\bcompared (?:to|with)|\bvs\.?|\bversus)\s*$", re.IGNORECASE)
# "an accuracy of 88.2%, while our method achieved 93.4%"
_CLAUSE_GAP = re.compile(r"^\s*,?\s*(?:while|whereas|and|but)\s+(?:[\w-]+\s+){0,4}?(?:achieved|reached|obtained|yielded|scored|attained|showed|had|gave)\s+(?:an?\s+)?(?:of\s+)?$", re.IGNORECASE)
_AFTER_JOIN = r"(?:\([^()\d]*\)\s*)?(?:(?:for|in|on)\s+(?:the\s+|an?\s+)?(?:[A-Za-z][\w'+-]*\s*){0,5}|[A-Za-z][\w'+-]*\s*)?(?:\([^()\d]*\)\s*)?"
_LIST_GAP = re.compile(rf"^\s*{_LABEL}(?:,|;|/|\band\b|,\s*and\b|&|\bor\b|\bvs\b\.?|\bversus\b|\bwith\b)\s*{_AFTER_JOIN}(?:[=:]\s*)?$|^\s*\(\s*$", re.IGNORECASE)
_FILLER = r"(?:(?:similarity\s+)?(?:(?:scores?|coefficients?|index|indices|metrics?|values?|rates?|measures?)\s*){1,2})?(?:\([^()]*\)\s*)?"  # "Dice score coefficient (DSC)"
_NAME_JOIN = re.compile(rf"^\s*\)?\s*{_FILLER}(?:,|and|or|,\s*and|/|&)\s*(?:the\s+)?(?:mean\s+|average\s+|overall\s+)?$", re.IGNORECASE)
_DIRECT = re.compile(rf"\s*\)?\s*{_FILLER}\(?\s*(?:of|[=:]|was|were|is|are)?\s*", re.IGNORECASE)  # "AUC of 0.9", "DSC: 0.8"
_GAP_LABEL = re.compile(r"\(?\s*[A-Za-z][\w-]{0,11}\s*[:=]\s*$")  # "Dice scores (LV: 0.92"
_SAME_NAME = re.compile(rf"^\s*{_FILLER}\(?\s*$", re.IGNORECASE)  # "Dice similarity coefficient (DSC"
_FORWARD = re.compile(
    r"^\s*(?:\bfor|\bin|\bof|\bcorresponding to|\brespectively,?\s+(?:as|for|in))?\s*(?:the\s+)?(?:terms of\s+(?:the\s+)?)?(?:mean\s+|average\s+|overall\s+|an?\s+)?"
    r"(?:(?:classification|segmentation|detection|identification|recognition|prediction|diagnostic|test|testing|train|training|validation|volumetric|pixel|global)\s+)?\(?$", re.IGNORECASE
)
_BACKWARD_REACH = 150
_LIST_REACH = 150  # between a list of values and its names when "respectively" or their equal lengths pair them
_VERSUS_BEFORE = re.compile(r"\b(?:vs\.?|versus)\s*$", re.IGNORECASE)
_VERSUS_AFTER = re.compile(r"^\s*(?:vs\.?|versus)\b", re.IGNORECASE)
_CLAUSE = re.compile(r";|\bwhereas\b|\bwhile\b|\bbut\b|,\s*and\b|\band the\b", re.IGNORECASE)
_COMPARISON_CUE = re.compile(
    r"\b(?:baselines?|radiologists?|readers?|clinicians?|physicians?|previous(?:ly)?|prior (?:work|methods?|studies|models?)"
    r"|existing|conventional|traditional|state[- ]of[- ]the[- ]art(?![- ](?:performance|results?|accuracy))|SOTA|other (?:methods?|models?|approaches|networks)"
    r"|competing|compared (?:to|with)(?! (?:the )?(?:ground[- ]truth|manual|reference|expert))|than|versus|vs\.?)(?!\w)",
    re.IGNORECASE,
)
# the other method as the object of a comparison, then a phrase giving the subject's value
_OBJECT = re.compile(r"\b(?:than|compared (?:to|with)|over|improv\w* (?:on|upon)|outperform\w*|surpass\w*|beyond|versus|vs\.?)(?!\w)", re.IGNORECASE)
_OF_THE_SUBJECT = re.compile(
    r"\bwith\b|\bi\.e\.|\be\.g\.|,\s*(?:obtaining|achieving|reaching|yielding|attaining)\b"
    rf"|\band\s+{_ACHIEVE}"  # "outperformed other methods and yielded"
    rf"|,\s*(?:the|our|this)\s+(?:[\w-]+\s+){{0,3}}?{_ACHIEVE}",  # "Compared with U-Net, the method achieves"
    re.IGNORECASE,
)
_READERS_AFTER = re.compile(r"\s*\((?:human |unaided )?(?:readers?|radiologists?|clinicians?|experts?|physicians?)\b", re.IGNORECASE)  # "42–100% (human readers, n = 9 studies)"
_SHARED_GAP = re.compile(r"\s*(?:(?:were|was|are|is)\s+)?(?:both\s+)?(?:of\s+)?(?:above|over|exceeding|greater than|more than|higher than|>|≥)\s*", re.IGNORECASE)
_PROPOSED_CUE = re.compile(r"\b(?:our|ours|proposed|we|by (?:achieving|obtaining|reaching))\b", re.IGNORECASE)
# for a sentence's sole metric (``_sole_metric``): what makes a number something else's
_SOLE_NOT_AFTER = re.compile(
    r"\s*(?:of|in)\b|\s*(?!(?:for|and|or|on|in|at|with|by|to|from|vs|versus|respectively|compared|than|when|while|whereas|which|using|after|before"
    r"|during|across|among|between|the|a|an|as|over|under|per|was|were|is|are)\b)[a-z]"
)
_SOLE_NOT_BEFORE = re.compile(r"[\d%]\s*[\[(]\s*$|(?:α|\balpha|\bby)\s*[=(]?\s*$", re.IGNORECASE)
_OTHER_NOUN_OF = re.compile(r"\b(?!(?:values?|scores?|coefficients?|rates?|metrics?|index)\s)[a-z]+\s+(?:of|=|:)\s*$")
# a number that is the subject of a verb of its own is not the value of the name before it ("accuracy, whereas 15% demonstrated")
_SUBJECT_AFTER = re.compile(r"\s+(?:(?:have|has|had|were|was)\s+)?(?:demonstrat|show|report|focus|address|employ|describ)\w*\b", re.IGNORECASE)
# a sentence that speaks of the values of the sentence before without naming their metrics
_ANAPHORA = re.compile(r"(?:the|these|its|their)\s+(?:same\s+|corresponding\s+|respective\s+)?(?:performance\s+)?(?:values|metrics|figures)\b", re.IGNORECASE)
_P_VALUE = re.compile(r"\b[pP][- ]?values?\b|\b[pP]\s*[<=>≤≥]")
# "more than 95%", "less than 1,000 images": a bound on a number, not another method's value.
_BOUND_THAN = re.compile(rf"\b(?:more|less|fewer|greater)\s+than\s*(?=(?:{_NUM})|(?:a|an|one|half)\b)", re.IGNORECASE)


@dataclass(frozen=True)
class ReportedValue:
    metric: str
    value: float
    value_high: float | None
    spread: float | None
    unit: str
    role: str
    headline: bool
    sentence: str


@dataclass
class _Name:
    metric: str | None
    start: int
    end: int
    delta: bool


@dataclass
class _Number:
    value: float
    percent: bool
    spread: float | None
    unit: str | None
    start: int
    end: int
    text: str = ""
    high: float | None = None
    comparison: bool = False
    from_to: bool = False  # "from a to b" after a change word: values, even of a changed metric


def clean(text: str) -> str:
    """Plain text: LaTeX as the text it typesets, middle-dot decimals as points, CIs dropped."""
    text = html.unescape(re.sub(r"&\s?#?x([0-9a-fA-F]{2,4});", r"&#x\1;", text))  # "95 & x0025;": a character reference broken in export
    text = _LATEX_SPAN.sub(_typeset, re.sub(r"~(?=\$)", " ", _LATEX_BLOCK.sub(lambda block: " ".join(block[1].split()), text)))
    text = text.replace("\\%", "%").replace("$", "").replace("--", "–").replace("\u2010", "-").replace("\u2011", "-")
    text = re.sub(r"(?<=\d)·(?=\d)", ".", text)
    text = re.sub(r"\\pm\s*\{?\s*(\d[\d.]*)\s*\}?", r" ± \1", text)  # LaTeX "0.95\pm{0.01}"
    text = re.sub(r"(?<![\d.,])0,(?=\d)", "0.", text)  # decimal commas: "0,85"
    text = re.sub(r"(?<![\d.,])(\d{1,2}),(\d{1,2})(?=\s*%)", r"\1.\2", text)  # "85,3%"
    text = re.sub(r"(?<![\d.])0\. (?=\d)", "0.", text)  # "0. 86"
    text = re.sub(r"(?<=\d) \. (?=\d+\s*%)", ".", text)  # "98 . 53%"
    text = re.sub(r"(?<=\d)(?=(?:and|to|vs|versus)\b)", " ", text)  # "0.03and 0.91"
    text = re.sub(r"(?<=[a-z0-9%)]\.)(Results|Conclusions?|Methods|Background|Purpose|Objectives?|Findings)(?=[A-Z])", r" \1: ", text)  # "studies.ResultsThe"
    text = re.sub(r"(?<=\d)\s*\u2212\s*(?=\d)", "–", text)  # "0.810−0.980": a minus sign between numbers is a dash
    text = _CI.sub("", text)
    return _BRACKETED_RANGE.sub("", text)


def _typeset(span: re.Match) -> str:
    """A LaTeX span as its text, or nothing where it repeats the text before it ("91% $$91\\%$$")."""
    typeset = " ".join(_LATEX.latex_to_text(span.group()).split())
    squeezed = re.sub(r"\s", "", typeset)
    return "" if squeezed and re.sub(r"\s", "", span.string[: span.start()]).endswith(squeezed) else typeset


def sentences(text: str) -> list[str]:
    return [" ".join(s.split()) for s in _SENTENCE_END.split(text) if s.strip()]


def _names(sentence: str) -> list[_Name]:
    taken: list[_Name] = []
    for metric, pattern in _NAMES:
        for match in pattern.finditer(sentence):
            if not any(match.start() < t.end and t.start < match.end() for t in taken):
                before, after = sentence[: match.start()], sentence[match.end() :]
                human = _HUMAN_BEFORE.search(before)  # "the interobserver Dice of 0.69": agreement between people
                delta = bool(_DELTA_NAME_BEFORE.search(before) or _DELTA_NAME_AFTER.match(after))
                taken.append(_Name(None if human else metric, match.start(), match.end(), delta))
    merged: list[_Name] = []
    for name in sorted(taken, key=lambda n: n.start):
        if merged and merged[-1].metric == name.metric and _SAME_NAME.match(sentence[merged[-1].end : name.start]):
            merged[-1].end = name.end + (sentence[name.end : name.end + 1] == ")")  # "Dice similarity coefficient (DSC)" with its bracket
            continue
        merged.append(name)
    return merged


def _numbers(sentence: str) -> list[_Number]:
    found = []
    for m in _NUMBER.finditer(sentence):
        if _NOT_A_VALUE_BEFORE.search(sentence[: m.start()]) or _NOT_A_VALUE_AFTER.match(sentence[m.end() :]):
            continue
        if m["vp"] and _COUNT_BEFORE.search(sentence[: m.start()]):
            continue  # "for 57 ML-CDSS (95%)": a share of the things counted
        if _OPERATING_POINT_BEFORE.search(sentence[: m.start()]) or (_AT_BEFORE.search(sentence[: m.start()]) and _RATE_AFTER.match(sentence[m.end() :])):
            continue  # "sensitivity at 90% specificity", "at a threshold specificity of 50%": where the curve is read, not a result
        if m["v"] == "95" and re.match(r"\s*(?:th\s+)?(?:percentile\s+)?(?:Hausdorff|HD)\b", sentence[m.end() :]):
            continue  # "mean 95 Hausdorff distance", "95% HD"
        value = float(m["v"].replace(",", ""))
        spread = float(m["s"]) if m["s"] else None
        found.append(_Number(value, bool(m["vp"] or m["sp"]), spread, m["unit"] or m["unit0"], m.start(), m.end(), m["v"]))
    found = _merge_ranges(sentence, found)
    for value, bracketed in reversed(list(zip(found, found[1:]))):  # "AUC = 0.88 (0.04)", "Dice: 0.72(0.21)": a standard deviation
        if (
            value.spread is None and value.high is None and bracketed.percent == value.percent and bracketed.value < value.value / 2
            and re.fullmatch(r"\s*\(\s*", sentence[value.end : bracketed.start]) and re.match(r"\s*\)", sentence[bracketed.end :])
        ):
            value.spread = bracketed.value
            found.remove(bracketed)
    for earlier, later in reversed(list(zip(found, found[1:]))):  # "95, 91 and 88%": the list's percent sign
        if later.percent and not earlier.percent and earlier.unit is None and _JOIN.match(sentence[earlier.end : later.start]):
            earlier.percent = True
    return found


def _merge_ranges(sentence: str, numbers: list[_Number]) -> list[_Number]:
    """Join "a-b", "between a and b", "ranging from a (...) to b"; "from a to b" after a
    change word keeps a as the value compared against."""
    merged: list[_Number] = []
    skip: set[int] = set()
    for i, low in enumerate(numbers):
        if i in skip:
            continue
        for j in range(i + 1, len(numbers)):
            gap = re.sub(r"\([^()]*\)", "", sentence[low.end : numbers[j].start])
            if "(" in gap or ")" in gap:
                continue
            high = numbers[j]
            dash = re.fullmatch(r"\s*[-–—]\s*", gap)
            start = _RANGE_START.search(sentence[: low.start]) if re.fullmatch(r"\s+(?:to|and)\s+", gap) else None
            after_range = merged and merged[-1].high is not None and re.search(r"(?:,|\band)\s*$", sentence[: low.start])
            stated = (  # "median DSC was 0.76 to 0.88", "0.81 to 0.84 and 9.8 to 19.7"
                re.fullmatch(r"\s+to\s+", gap) and (_STATED.search(sentence[: low.start]) or after_range)
                and low.value < high.value and low.percent == high.percent
            )
            worded = bool(start or stated)
            changed = _CHANGE.search(sentence[max(0, low.start - 80) : low.start])
            if (start and "from" in start.group(0).lower() and _CHANGE.search(sentence[: low.start])) or (stated and changed):
                low.comparison = low.from_to = high.from_to = True
                break
            if (dash or worded) and low.unit == high.unit and low.spread is None:
                low.high, low.end = high.value, high.end
                low.percent = low.percent or high.percent
                skip.add(j)
            break
        merged.append(low)
    return merged


def _normalised(metric: str, number: _Number) -> tuple[float, float | None, float | None, str] | None:
    """(value, high, spread, unit) on the metric's scale, or None when not a value of it."""
    if metric in RATIO_METRICS:
        if number.unit is not None or (number.value in (0, 1) and not number.percent and number.high is None and number.spread is None and "." not in number.text):
            return None
        values = [v for v in (number.value, number.high) if v is not None]
        scale = 100 if number.percent or any(v > 1 for v in values) else 1
        whole = number.value == int(number.value) and not number.percent
        if any(v > scale for v in values) or (scale == 100 and whole and number.value > 1 and number.high is None):
            return None
        def on_scale(v: float | None) -> float | None:
            return None if v is None else round(v / scale, 6)
        return on_scale(number.value), on_scale(number.high), on_scale(number.spread), "fraction"
    if number.unit not in (None, "mm", "px", "pixels", "pixel", "voxels", "voxel", "kPa", "years", "year", "months", "days"):
        return None
    if number.unit is None and number.value == int(number.value) and number.value >= 1000:
        return None
    return number.value, number.high, number.spread, "mm" if number.unit == "mm" else "other"


def _runs(items: list, sentence: str, join: re.Pattern) -> list[list]:
    runs: list[list] = []
    for item in items:
        if runs and join.match(sentence[runs[-1][-1].end : item.start]):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _attach(sentence: str, names: list[_Name], numbers: list[_Number]) -> list[tuple[_Name, _Number]]:
    """Each number with the metric name it belongs to, only where the sentence says so:
    lists zipped with lists of names ("DSC and F1 of 0.70 and 0.71", "DSC/HD of 0.88/18.3
    mm"), a name right after the number ("0.98 AUC", "0.998 for the AUC"), the first value
    after a name with no other value between them ("an AUC on the test set of 0.91"), and
    the numbers that continue its list ("Dice of 93% (LV), 91% (RV) and 86%"). Names joined
    by a slash before a single number ("recall/precision of 0.85") leave it unattached."""
    pairs: dict[int, _Name] = {}
    number_runs = _runs(numbers, sentence, _JOIN)
    ambiguous: set[int] = set()
    name_runs = _runs(names, sentence, _NAME_JOIN)
    shared: list[tuple[_Name, _Number]] = []
    for run in name_runs:
        if len(run) < 2:
            continue
        for values in number_runs:
            if len(values) % len(run) or any(id(v) in pairs for v in values):
                continue
            if len(values) > len(run) and not _respectively(sentence, values):
                continue
            # "The dice metric, ... were used to evaluate ..., with values of 0.93, ..., respectively"; three or more names and as many numbers
            reach = _LIST_REACH if _respectively(sentence, values) or len(values) == len(run) >= 3 else 60
            after = values[0].start >= run[-1].end and len(sentence[run[-1].end : values[0].start]) <= reach and not any(
                run[-1].end <= n.start < values[0].start for n in names
            )
            before = values[-1].end <= run[0].start and _FORWARD.match(sentence[values[-1].end : run[0].start])
            if after or before:  # "sensitivity and specificity were 0.95 and 0.39, and 0.89 and 0.78": in turn
                pairs.update({id(v): run[i % len(run)] for i, v in enumerate(values)})
                end = values[-1].end
                for more in number_runs[number_runs.index(values) + 1 :]:  # "... with the SVM, and of 0.62, 0.63 and 0.72 with the DT"
                    if not _holds_value(sentence[more[0].start : more[-1].end]):
                        continue  # "(... challenge in 2013)": a year between the lists
                    gap = sentence[end : more[0].start]
                    if len(more) != len(values) or len(gap) > (_LIST_REACH if _respectively(sentence, more) else 80) or _holds_value(gap) or any(end <= n.start < more[0].start for n in names):
                        break
                    pairs.update({id(v): n for v, n in zip(more, run)})
                    end = more[-1].end
                break
        else:
            if any("/" in sentence[a.end : b.start] for a, b in zip(run, run[1:])):
                ambiguous.update(id(n) for n in run)
    # a "respectively" list that no list of names matches: which number is which is not said
    def names_before(values: list[_Number]) -> list[_Name]:
        return next((r for r in reversed(name_runs) if r[-1].end <= values[0].start), [])
    unsaid = {
        id(v) for values in number_runs
        if len(values) > 1 and _listed(sentence, names_before(values)) and not any(id(v) in pairs for v in values)
        and (_respectively(sentence, values) or values[0].start - names_before(values)[-1].end <= _LIST_REACH)
        for v in values
    }
    given: set[int] = set()  # names that have a value
    previous: _Number | None = None
    for number in numbers:
        if id(number) in pairs:
            given.add(id(pairs[id(number)]))
            previous = number
        elif id(number) not in unsaid:
            following = next((n for n in names if n.start >= number.end), None)
            preceding = next((n for n in reversed(names) if n.end <= number.start), None)
            run = next((r for r in number_runs if any(n is number for n in r)), [number])
            if preceding is not None and id(preceding) not in ambiguous and _states(sentence, preceding, number):
                pairs[id(number)] = preceding  # "I2 values of 89.82% for sensitivity": the I2's
            elif following and _FORWARD.match(sentence[number.end : following.start]) and len(sentence[number.end : following.start]) <= 40 and _fits(following, number) and not _own_value(sentence, following, numbers):
                pairs[id(number)] = following  # "0.998 for the AUC", not "from 72.5 % to 100 % (AUC up to 1.0)"
                names_run = next(r for r in name_runs if following in r)
                if len(run) == 1 and names_run[0] is following and id(following) not in ambiguous:
                    shared.extend((n, number) for n in names_run[1:] if not any(_states(sentence, n, m) for m in numbers if m.start >= n.end))  # "100% for specificity, sensitivity and accuracy", not "93.2% specificity, and AUC 0.95"
            elif previous is not None and pairs[id(previous)] is preceding and previous.start >= preceding.end and _continues(sentence, previous, number):
                pairs[id(number)] = preceding  # "0.91 (LV), 0.88 (RV) and 0.86", "from 77.4% to 78.9%"
            elif (
                preceding is not None and id(preceding) not in given and id(preceding) not in ambiguous
                and _fits(preceding, number) and not _SUBJECT_AFTER.match(sentence[number.end :])
                and number.start - preceding.end <= _BACKWARD_REACH
                and not _holds_value(sentence[preceding.end : number.start])
                and not re.search(r"[=:]", _GAP_LABEL.sub("", re.sub(rf"^\s*\)?\s*{_FILLER}[=:]", "", _bare(sentence[preceding.end : number.start]), flags=re.IGNORECASE)))
            ):
                pairs[id(number)] = preceding
            elif following and _FORWARD.match(sentence[run[-1].end : following.start]) and len(sentence[run[-1].end : following.start]) <= 40 and _fits(following, number):
                pairs[id(number)] = following  # "99% and 91% accuracy"
            if id(number) in pairs:
                given.add(id(pairs[id(number)]))
                previous = number  # the last number with a metric
    for run in name_runs:  # "sensitivity and specificity above 90 %": one value said of each name
        value = next((n for n in numbers if n.start >= run[-1].end), None)
        if (
            len(run) > 1 and value is not None and pairs.get(id(value)) is run[-1] and len(next(r for r in number_runs if value in r)) == 1
            and _SHARED_GAP.fullmatch(sentence[run[-1].end : value.start])
        ):  # names joined by a slash are ambiguous: their value is no name's, so not run[-1]'s
            shared.extend((name, value) for name in run[:-1] if _fits(name, value))
    return [(pairs[id(n)], n) for n in numbers if id(n) in pairs] + shared


def _carried(sentence: str, earlier: list[_Name], numbers: list[_Number]) -> list[tuple[_Name, _Number]]:
    """The values of a sentence that names no metric but speaks of those of the sentence
    before: its one metric's ("The values for myocardium were 88.90% (ED) and 90.48% (ES)",
    left to ``_sole_metric``), or its names in order where as many values follow
    "respectively" ("The same performance metrics ... were 98.53%, 98.70%, and 95.21%,
    respectively")."""
    metrics = [name.metric for name in earlier]
    if len(metrics) < 2 or len(set(metrics)) < len(metrics):
        return []
    runs = [run for run in _runs(numbers, sentence, _JOIN) if len(run) == len(metrics) and _respectively(sentence, run)]
    return list(zip(earlier, runs[0])) if len(runs) == 1 else []


def _sole_metric(sentence: str, names: list[_Name], numbers: list[_Number], pairs: list[tuple[_Name, _Number]], deltas: set[int]) -> list[tuple[_Name, _Number]]:
    """In a sentence that names one metric and no other measure, the numbers no rule
    attached, after its first name: its values ("Mean Dice overlap was higher for MPUnet on
    CCBR (0.83 vs. 0.81 and 0.82)"). Left out even there: a bare number above 1 (not a
    percentage), a percentage of a thing ("80% noise ratio", "90% of the cases"), a figure in
    brackets right after another value ("19.14 (6%)"), a value of another noun ("area overlap
    of 0.80"), a significance level or a difference ("α = 0.05", "by (23%)") and agreement
    between people ("the interobserver (0.44")."""
    if len({name.metric for name in names}) != 1 or names[0].metric is None or deltas or _P_VALUE.search(sentence):
        return []  # a sentence of differences or of significance tests
    taken = {id(number) for _, number in pairs} | deltas
    extra = []
    for number in numbers:
        before, after = sentence[: number.start], sentence[number.end :]
        if id(number) in taken or number.start < names[0].end or not (number.percent or ("." in number.text and number.value <= 1)):
            continue
        clause = re.split(r";|,\s*and\b|\band\b", before)[-1]
        if (
            _SOLE_NOT_AFTER.match(after) or _SOLE_NOT_BEFORE.search(before) or _HUMAN.search(clause)
            or (re.search(r"[\d%]\s+to\s*$", before) and not number.from_to)  # "0.90 to 0.90": the end of what is not a range
            or (_OTHER_NOUN_OF.search(before) and not any(n.end <= number.start and _states(sentence, n, number) for n in names))
        ):
            continue
        extra.append((names[0], number))
    return extra


def _states(sentence: str, name: _Name, number: _Number) -> bool:
    """Whether the number follows the name directly: "AUC of 0.9", "DSC: 0.8", "(AUC, 0.959)"."""
    gap = sentence[name.end : number.start]
    return bool(_DIRECT.fullmatch(gap) or (sentence[: name.start].rstrip().endswith("(") and re.fullmatch(r"\s*,\s*", gap)))


def _own_value(sentence: str, name: _Name, numbers: list[_Number]) -> bool:
    """Whether the name states a number of its own right after it ("(AUC up to 1.0)")."""
    return any(
        (_states(sentence, name, m) or re.fullmatch(r"\s*up to\s*", sentence[name.end : m.start])) and _fits(name, m) for m in numbers if m.start >= name.end
    )


def _is_delta(sentence: str, number: _Number) -> bool:
    """A difference by the words around it ("by 10% (AUC", "+2.8", "4% higher")."""
    before = sentence[: number.start]
    return bool(_DELTA_BEFORE.search(before) or _SIGN_BEFORE.search(before) or _DELTA_AFTER.match(sentence[number.end :]))


def _fits(name: _Name, number: _Number) -> bool:
    """Whether the number can be a value of the name's metric ("2" in "test set 2 (AUC" cannot)."""
    return name.metric is None or _normalised(name.metric, number) is not None


def _holds_value(text: str) -> bool:
    """Whether text holds a number that could be a metric's value: a percentage or a
    decimal without a unit ("2 cm", "n = 30" and years are not)."""
    return any((m["vp"] or "." in m["v"]) and not (m["unit"] or m["unit0"]) for m in _NUMBER.finditer(text))


def _bare(text: str) -> str:
    """Text with its parentheses (one level of nesting inside) set aside."""
    return re.sub(r"\([^()]*(?:\([^()]*\)[^()]*)*\)", " ", text)


def _continues(sentence: str, previous: _Number, number: _Number) -> bool:
    """Whether number carries on the list of previous (parentheses between them set aside)."""
    if _is_delta(sentence, number):
        return False
    gap = sentence[previous.end : number.start]
    bare = _bare(gap)
    if _holds_value(bare):
        return False
    if re.fullmatch(r"\s*\(\s*", gap) and (previous.percent != number.percent or previous.unit != number.unit):
        return False  # "19.14 (6%)": a relative figure beside a distance
    return bool(_LIST_GAP.match(bare) or _COMPARED_GAP.match(bare) or _CLAUSE_GAP.match(bare) or (previous.comparison and re.fullmatch(r"\s+to\s+", gap)))


def _listed(sentence: str, run: list[_Name]) -> bool:
    """Whether names are a list: more than one, or one that ends a list of names this module
    does not know ("DSC, Ω, and ACC")."""
    token = r"(?:^|(?<=\s))[^\s\d,%()]{1,15}"
    unknown = rf"(?:(?:{token},\s*){{2,}}(?:and\s+|&\s*)?|{token},?\s*(?:and|&)\s+)$"
    return len(run) > 1 or (len(run) == 1 and bool(re.search(unknown, sentence[: run[0].start])))


def _respectively(sentence: str, values: list[_Number]) -> bool:
    return bool(re.match(r"^[^.;]{0,60}?\b(?:respectively|correspondingly)\b", sentence[values[-1].end :], re.IGNORECASE))


def _deltas(sentence: str, numbers: list[_Number], pairs: list[tuple[_Name, _Number]]) -> set[int]:
    """Numbers that are differences: after "by"/"improvement of", before "higher"/"gain", a
    list continuing one, or every number of a name whose first number is one."""
    deltas: set[int] = set()
    gains = {id(number) for name, number in pairs if _gain_in(sentence, name, number)}
    for previous, number in zip([None, *numbers], numbers):
        joined = previous is not None and (_JOIN.match(sentence[previous.end : number.start]) or re.fullmatch(r"\s+to\s+", sentence[previous.end : number.start]))
        if _is_delta(sentence, number) or id(number) in gains or (joined and id(previous) in deltas):  # "improved by 0.93 % to 5.13 %": both differences
            deltas.add(id(number))
    for later, number in reversed(list(zip(numbers[1:], numbers))):  # "4.25% and 6.93% AUC increase"
        if id(later) in deltas and _JOIN.match(sentence[number.end : later.start]):
            deltas.add(id(number))
    first_of: dict[int, _Number] = {}
    for name, number in pairs:
        first_of.setdefault(id(name), number)
        # "increased the AUC to 0.84 and 0.82": values, this one or the name's first after "to"
        to_value = number.from_to or _TO_BEFORE.search(sentence[: number.start]) or _TO_BEFORE.search(sentence[: first_of[id(name)].start])
        if (name.delta and not to_value) or (id(first_of[id(name)]) in deltas and not _states(sentence, name, number)):
            deltas.add(id(number))
    return deltas


def _gain_in(sentence: str, name: _Name, number: _Number) -> bool:
    """A change stated "in" the metric after a change word: "improvement ..., with up to
    9.82% in Dice coefficient compared to supervised baseline"."""
    if not _IN_NAME.fullmatch(sentence[number.end : name.start]):
        return False
    change = list(_CHANGE.finditer(sentence[: number.start]))
    return bool(change) and not _VALUE_VERB.search(sentence[change[-1].end() : number.start])


def _role(sentence: str, number: _Number) -> str:
    if number.comparison or _VERSUS_BEFORE.search(sentence[: number.start]) or _READERS_AFTER.match(sentence[number.end :]):
        return "comparison"
    if _VERSUS_AFTER.match(sentence[number.end :]):
        return "proposed"
    clause = _CLAUSE.split(re.sub(r"\([^()]*\)", "", sentence[: number.start]))[-1]
    bounds = [range(m.start(), m.end()) for m in _BOUND_THAN.finditer(clause + sentence[number.start :])]
    cues = [(m.start(), "comparison") for m in _COMPARISON_CUE.finditer(clause) if not any(m.start() in b for b in bounds)]
    cues += [(m.start(), "proposed") for m in _PROPOSED_CUE.finditer(clause)]
    if not cues:
        return "proposed"
    position, role = max(cues)
    after_cue = _COMPARISON_CUE.match(clause, position).end() if role == "comparison" else position
    if role == "comparison" and _OBJECT.search(clause[max(0, position - 40) : after_cue]) and _OF_THE_SUBJECT.search(clause[after_cue:]):
        return "proposed"  # "better than FCN and PSNet with a DSC of 70.3%": the subject's value
    return role


def extract(title: str, abstract: str) -> list[ReportedValue]:
    """Every pair the title and abstract state, in reading order, one headline among them."""
    found: list[ReportedValue] = []
    seen: set[tuple] = set()  # pairs of earlier sentences: a repeat (a conclusion, a translation) is one pair
    earlier: list[_Name] = []
    for sentence in [" ".join(clean(title or "").split()), *sentences(clean(abstract or ""))]:
        numbers = _numbers(sentence)
        names = _names(sentence)
        carried = not names and _ANAPHORA.match(sentence)
        if carried:
            pairs = _carried(sentence, earlier, numbers)
            names = [_Name(earlier[0].metric, 0, 0, False)] if len({name.metric for name in earlier}) == 1 else []
        else:
            pairs = _attach(sentence, names, numbers)
        deltas = _deltas(sentence, numbers, pairs)
        extra = _sole_metric(sentence, names, numbers, pairs, deltas)
        if extra:
            pairs = sorted(pairs + extra, key=lambda pair: pair[1].start)
        here: list[tuple] = []
        last: dict[str, tuple[float, int]] = {}
        for name, number in pairs:
            if name.metric is None or id(number) in deltas:
                continue
            normalised = _normalised(name.metric, number)
            if normalised is None:
                continue
            value, high, spread, unit = normalised
            restated = name.metric in last and last[name.metric][0] == value and re.fullmatch(r"\s*\(\s*", sentence[last[name.metric][1] : number.start])
            last[name.metric] = (value, number.end)
            if (name.metric, value, high) in seen or restated:  # "0.88 (88%)"
                continue
            here.append((name.metric, value, high))
            found.append(ReportedValue(name.metric, value, high, spread, unit, _role(sentence, number), False, sentence))
        seen.update(here)
        earlier = [] if carried else list({id(name): name for name, _ in pairs if name.metric}.values())  # the names that had values
    if found and all(v.role == "comparison" for v in found):  # a record reports its own values: the cues misled
        found = [ReportedValue(**{**asdict(v), "role": "proposed"}) for v in found]
    return _mark_headline(found)


def _mark_headline(values: list[ReportedValue]) -> list[ReportedValue]:
    proposed = [(PRIORITY.index(v.metric), v.value_high is not None, i) for i, v in enumerate(values) if v.role == "proposed"]
    if not proposed:
        return values
    best = min(proposed)[2]
    return [ReportedValue(**{**asdict(v), "headline": i == best}) for i, v in enumerate(values)]


COLUMNS = ["record_id", "pmid", "doi", "metric", "value", "value_high", "spread", "unit", "role", "headline", "sentence"]


def extract_records(records: pd.DataFrame) -> pd.DataFrame:
    """One row per pair of every record (``record_id, pmid, doi, title, abstract`` in)."""
    rows = [
        {"record_id": r.record_id, "pmid": r.pmid, "doi": r.doi, **asdict(v)}
        for r in records.itertuples(index=False)
        for v in extract(r.title if isinstance(r.title, str) else "", r.abstract if isinstance(r.abstract, str) else "")
    ]
    return pd.DataFrame(rows, columns=COLUMNS)
