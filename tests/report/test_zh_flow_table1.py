"""The Chinese report's participant flow diagram, Table 1 and figures: every word from the label
files by id, the numbers those of the English report; the English report as it was."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edxreview.classify._classify import EXCLUSION_REASONS
from edxreview.cohort import compute_table1
from edxreview.cohort._compare import TEST_NAMES
from edxreview.cohort._table1 import table1_settings
from edxreview.report._render import flow_counts, flow_svg
from edxreview._words import load_labels
from edxreview.report._table1 import table1_words

from ._zh import english_labels, page_part, visible_text, words_in

#: every Chinese string of the flow diagram, Table 1 and the figures, for a native reader to
#: review (with the fonts the figures are drawn with): a
#: change to one of them in labels_zh.toml fails here until it is reviewed and copied here
NEW_ZH_STRINGS: dict[str, dict[str, str]] = {
    "flow": {
        "workbook": "工作簿中的患者",
        "rejected_rows": "（{n} 行无效患者记录未读入）",
        "excluded": "排除",
        "reason_count": "{reason}：{n}",
        "more_reasons": "……另有 {n} 种原因",
        "no_reason": "未注明原因",
        "included": "纳入",
        "emg_denervation": "肌电图示失神经",
        "no_denervation": "肌电图未见失神经",
        "denervation_explained_by_ncs": "可由神经传导解释",
        "lmn_involvement": "下运动神经元受累",
        "ncs_abnormal_without_denervation": "神经传导异常而无失神经",
        "lmn_with_corresponding_mri": "MRI有相应病灶",
        "lmn_without_mri": "MRI无相应病灶",
        "diagram": "病例流程图",
        "caption": "从工作簿到本研究的各项分类。无针极肌电图或无神经传导记录的患者予以排除。"
                   "失神经可由神经传导解释与下运动神经元受累，是每例失神经患者的两种结局。",
        "reason": "排除原因",
        "patients": "患者数",
    },
    "exclusion_reasons": {
        "no_emg_no_ncs": "无针极肌电图及神经传导记录",
        "no_emg": "无针极肌电图记录",
        "no_ncs": "无神经传导记录",
    },
    "table1": {
        "heading": "表1　按下运动神经元受累分组的患者特征",
        "characteristic": "特征",
        "overall": "全部，N = {n}",
        "group": "{group}，N = {n}",
        "group_yes": "下运动神经元受累",
        "group_no": "无下运动神经元受累",
        "missing": "缺失",
        "p": "P值",
        "not_tested": "未检验",
        "not_recorded": "（{stat}）",
        "too_few": "有一组有记录值的患者少于 {minimum} 例",
        "included": "纳入患者（{n} 例）。缺失：无记录值的患者，不计入百分比及统计检验。",
        "test_note": "{name}。",
        "variables_join": "；",
    },
    "table1_variables": {
        "n": "患者例数",
        "age_years": "年龄，岁",
        "sex": "性别",
        "aqp4_igg": "AQP4-IgG",
        "mog_igg": "MOG-IgG",
        "disease_duration_months": "病程，月",
        "edss": "EDSS评分",
        "weakness": "肌无力",
        "atrophy": "肌萎缩",
        "hyporeflexia": "腱反射减弱",
        "cord_lesion_segments": "最长脊髓病灶，节段数（0 = 无）",
        "cord_lesion": "MRI示脊髓病灶",
        "brainstem_lesion": "MRI示脑干病灶",
    },
    "table1_levels": {"F": "女", "M": "男", "positive": "阳性", "negative": "阴性",
                      "yes": "是", "no": "否"},
    "table1_stats": {"mean_sd": "均值（标准差）", "median_iqr": "中位数 [Q1, Q3]",
                     "n_pct": "例数（%）", "not_recorded": "未记录"},
    "tests": {
        "fisher": "Fisher 精确检验",
        "chi2": "Pearson 卡方检验",
        "mannwhitney": "Mann–Whitney U 检验",
        "welch": "Welch t 检验",
        "kruskal": "Kruskal–Wallis H 检验",
    },
    "table1_notes": {
        "mean_sd": "两组均通过 Shapiro–Wilk 正态性检验（P ≥ {alpha}，每组至少 {min_n} 个值）的"
                   "连续变量以均值（标准差）表示。",
        "median_iqr": "任一组偏离正态分布（Shapiro–Wilk P < {alpha}）或少于 {min_n} 个值的连续"
                      "变量以中位数 [Q1, Q3] 表示。",
        "categorical": "分类变量以有记录值患者的例数（%）表示；填写“unknown”或空白的单元格计为"
                       "缺失。",
        "test_fisher": "{name}：用于有期望频数小于 {below} 的分类变量（SciPy）。",
        "test_chi2": "{name}：用于期望频数均不小于 {below} 的分类变量（SciPy）。",
        "test_mannwhitney": "{name}：用于偏态分布的连续变量（双侧）（SciPy）。",
        "test_welch": "{name}：用于正态分布的连续变量（SciPy）。",
        "not_tested": "未检验（{variables}）：有一组有记录值的患者少于 {minimum} 例，P值无实际"
                      "意义（edxreview 的约定，见 statistics.toml）。",
        "none_tested": "各变量均未检验：有一组有记录值的患者少于 {minimum} 例，P值无实际意义"
                       "（edxreview 的约定，见 statistics.toml）。",
        "p_values": "P值：小于0.001及大于0.9者如此标示，0.10及以上保留两位小数，以下保留三位。",
    },
    "figures": {
        "fonts": ["DejaVu Sans", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                  "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "SimHei",
                  "Droid Sans Fallback"],
        "patients": "患者数",
        "overlap_emg": "肌电图示失神经",
        "overlap_ncs": "神经传导示神经病",
        "overlap_mri": "MRI示脊髓或脑干病灶",
        "overlap_set": "{name}（{n}）",
        "overlap_note": "柱：恰好具有所标记组合的患者数（无标记 = 三项均无）。",
        "no_denervation": "无肌电图示失神经的患者。",
        "map_unexplained": "失神经，不能由神经传导解释",
        "map_explained": "失神经，可由神经传导解释",
        "map_mri": "MRI病灶节段",
        "nucleus": "{nucleus}（{level}）",
        "no_emg": "无针极肌电图记录。",
        "muscles_axis": "所查肌肉数（左右侧分别计数）",
        "no_ncs": "无神经传导检查。",
        "nerves_axis": "所查神经数（左右侧分别计数）",
        "nerve_study": "{nerve}（{study}）",
        "files_before": "文件：",
        "files_after": "（{formats}）。",
        "formats_svg": "SVG",
        "formats_all": "SVG、PNG（300 dpi）及 PDF",
    },
    "muscle_kinds": {
        "acute": "急性失神经",
        "acute and chronic": "急性及慢性失神经",
        "chronic": "慢性失神经",
        "normal": "无失神经",
        "not read": "静息时无失神经，运动单位电位未分析或未判读",
    },
    "nerve_kinds": {
        "neuropathy": "异常，计为神经病",
        "other": "异常，不计为神经病",
        "normal": "正常",
    },
    "figure_captions": {
        "heading": "图{n}\u3000{title}",
        "flow_title": "病例流程",
        "flow": "从工作簿到本研究的各项分类。",
        "overlap_title": "各项所见的重叠",
        "overlap": "纳入患者按针极肌电图失神经、神经传导检查示神经病及MRI示脊髓或脑干病灶分组。",
        "segmental_map_title": "失神经与MRI病灶的节段分布图",
        "segmental_map": "每例失神经患者一行。列：脑神经运动核（所属脑干水平），其后为脊髓节段"
                         "C1–S5。圆点：失神经肌肉所属节段或神经核（肌节），分可由神经传导所见"
                         "解释与不能解释两类；灰色：MRI病灶覆盖的节段（椎体水平已换算为脊髓"
                         "节段；脑干病灶覆盖其所在水平的神经核）。",
        "segmental_map_counts": "失神经患者共 {n} 例：图中显示每一节段的患者数，而非每例患者一行。",
        "muscles_title": "各肌肉的针极肌电图所见",
        "muscles": "按检查次数排列的肌肉（最多 {max_bars} 块），颜色示针极肌电图判读。",
        "nerves_title": "各神经的神经传导所见",
        "nerves": "按检查次数排列的神经检查（最多 {max_bars} 项），颜色示该神经的判读。",
    },
}

#: Latin words the Chinese flow diagram and Table 1 may hold: abbreviations and antibody names
#: kept in Chinese clinical writing (as labels_zh does for MRI, CMAP, R1), the names of the
#: tests' authors, and the names of the software and of the workbook value 'unknown'
ALLOWED_LATIN = {"MRI", "AQP4", "IgG", "MOG", "EDSS", "Q1", "Q3", "Shapiro", "Wilk", "Fisher",
                 "Pearson", "Mann", "Whitney", "Welch", "Kruskal", "Wallis", "SciPy",
                 "edxreview", "statistics", "toml", "unknown"}

SECTIONS = tuple(NEW_ZH_STRINGS)
ENGLISH_SNAPSHOT = Path(__file__).parent / "data" / "en_flow_table1.html"


def _flow_table1(page: str) -> str:
    return page_part(page, "flow", "figures")


def _visible_text(part: str) -> str:
    return "\n".join(visible_text(part))


def _english_labels() -> set[str]:
    """English texts of the new sections that differ from their Chinese text and hold a word
    of Latin letters other than an abbreviation the Chinese keeps (EDSS)."""
    return english_labels(SECTIONS, _latin_words)


def _english_words_in(text: str) -> list[str]:
    return words_in(_english_labels(), text)


def _latin_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z][A-Za-z0-9]+", text)) - ALLOWED_LATIN


@pytest.fixture(scope="module")
def pages(demo_reports):
    """The demo's report.html and flow diagram in English and in Chinese."""
    out = {}
    for lang in ("en", "zh"):
        out[lang] = (demo_reports[lang] / "report.html").read_text(encoding="utf-8")
        out[lang + "_svg"] = (demo_reports[lang] / "figures" / "flow.svg").read_text(
            encoding="utf-8")
    return out


def test_new_chinese_strings_are_the_reviewed_list():
    zh = load_labels("zh")
    assert {s: zh[s] for s in SECTIONS} == NEW_ZH_STRINGS
    # placeholders as in English, so that either file fills from the same values
    en = load_labels("en")
    for section in SECTIONS:
        for key, text in en[section].items():
            if not isinstance(text, str) or (section, key) == ("figures", "nucleus"):
                continue        # a nucleus: its cranial nerve in English, its name in Chinese
            assert sorted(re.findall(r"\{\w*\}", text)) == \
                sorted(re.findall(r"\{\w*\}", zh[section][key])), (section, key)


def test_zh_flow_and_table1_hold_no_english_word(pages):
    part = _flow_table1(pages["zh"])
    text = _visible_text(part)
    assert "Characteristic" in _english_labels() and "Patients in workbook" in _english_labels()
    assert not _english_words_in(text), _english_words_in(text)
    assert not _latin_words(text), sorted(_latin_words(text))
    assert not _latin_words(_visible_text(pages["zh_svg"]))
    assert 'aria-label="病例流程图"' in pages["zh_svg"]
    for word in ("工作簿中的患者", "肌电图示失神经", "可由神经传导解释", "MRI无相应病灶",
                 "表1　按下运动神经元受累分组的患者特征", "全部，N = 59", "下运动神经元受累，N = 9",
                 "年龄，岁", "均值（标准差）", "阳性", "女", "Fisher 精确检验。", "P值"):
        assert word in text, word


def test_zh_numbers_are_the_english_numbers(pages):
    """The same counts in both flow diagrams, the same cells in both Tables 1."""
    def counts(page):
        return re.findall(r'data-flow="(\w+)" data-n="(\d+)"', page)

    def cells(page):
        part = _flow_table1(page)
        part = part[part.index('<section id="table1">'):]
        return [re.findall(r"<td(?: class=\"num\")?(?: data-test=\"\w*\")?>([^<]*)", row)[1:]
                for row in re.findall(r"<tr data-variable.*?</tr>", part, flags=re.S)]

    assert counts(pages["zh"]) == counts(pages["en"]) and len(counts(pages["en"])) == 10
    assert dict(counts(pages["zh"]))["emg_denervation"] == "13"
    assert cells(pages["zh"]) == cells(pages["en"])
    assert ["40.9 (11.8)", "43.4 (10.4)", "40.4 (12.1)", "0", "0.45"] in cells(pages["en"])
    assert re.findall(r'data-variable="(\w+)"', pages["zh"]) == \
        re.findall(r'data-variable="(\w+)"', pages["en"])


def test_english_flow_and_table1_as_before(pages):
    """The English sections byte for byte as the report wrote them before they were worded
    from the label files (the demo's)."""
    assert _flow_table1(pages["en"]) == ENGLISH_SNAPSHOT.read_text(encoding="utf-8")


@pytest.mark.parametrize(("lang", "shown"), [("en", "(not recorded)"), ("zh", "（未记录）")])
def test_a_characteristic_nobody_has_recorded(lang, shown):
    """The cohort writes the statistic ``not recorded``; the report shows it in brackets, in
    each language's words and brackets."""
    ch = pd.DataFrame({"age_years": [40.0, 50, 60, 45], "edss": [None] * 4})
    t1 = compute_table1(ch, pd.Series([True, True, False, False]), ("A", "B"))
    row = t1.rows[t1.rows["variable"] == "edss"].iloc[0]
    assert row["stat"] == "not recorded"
    view = table1_words(t1, load_labels(lang))
    assert [r["stat_text"] for r in view["rows"] if r["variable"] == "edss"] == [shown]


def _small_table(n: int, seed: int = 3):
    """A Table 1 of ``n`` patients: with a small second group some variables are not tested."""
    rng = np.random.default_rng(seed)
    ch = pd.DataFrame({
        "age_years": rng.normal(45, 10, n).round(),
        "sex": rng.choice(["F", "M"], n),
        "aqp4_igg": rng.choice(["positive", "negative", None], n),
        "mog_igg": rng.choice(["positive", "negative", None, None, None], n),
        "edss": rng.exponential(2, n).round(1),
        "weakness": rng.choice([True, False], n)})
    group = np.arange(n) < n // 2
    return compute_table1(ch, group, ("LMN involvement", "No LMN involvement"))


@pytest.mark.parametrize("n", [60, 8, 2])
def test_table1_words_in_english_are_the_cohort_footnotes(n):
    t1 = _small_table(n)
    view = table1_words(t1, load_labels("en"))
    assert [text for text, _ in view["notes"]] == t1.footnotes
    assert [h for _, h in view["columns"]] == [t1.headers[g] for g in t1.groups]
    assert view["overall"] == t1.headers["overall"]
    assert [name for _, name in view["test_notes"]] == \
        [f"{TEST_NAMES[t]}." for t in dict.fromkeys(t1.rows["test"]) if t]


def test_table1_words_in_chinese_when_not_tested():
    t1 = _small_table(8)
    assert any(k == "not_tested" for k, _ in t1.notes)
    view = table1_words(t1, load_labels("zh"))
    notes = [text for text, dagger in view["notes"] if dagger]
    assert notes and notes[0].startswith("未检验（") and "；" in notes[0], notes
    titles = {r["not_tested_text"] for r in view["rows"] if r["not_tested"]}
    minimum = table1_settings()["min_group_n"]
    assert titles == {f"有一组有记录值的患者少于 {minimum} 例"}
    text = "\n".join([*(t for t, _ in view["notes"]), *(r["text"] for r in view["rows"]),
                      *(r["stat_text"] for r in view["rows"]), *titles])
    assert not _english_words_in(text) and not _latin_words(text), sorted(_latin_words(text))
    none = table1_words(_small_table(2), load_labels("zh"))
    assert any(t.startswith("各变量均未检验") for t, dagger in none["notes"] if dagger)


def test_zh_flow_with_exclusions_and_rejected_rows():
    patients = pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(6)],
        "included": [True, True, False, False, False, False],
        "exclusion_reason": ["", "", EXCLUSION_REASONS["no_emg"], EXCLUSION_REASONS["no_ncs"],
                             EXCLUSION_REASONS["no_ncs"], None],
        "emg_denervation": [True, False, False, False, False, False],
        "denervation_explained_by_ncs": [False] * 6, "lmn_involvement": [True] + [False] * 5,
        "lmn_with_corresponding_mri": [False] * 6,
        "ncs_abnormal_without_denervation": [False] * 6})
    counts = flow_counts(patients, {"patients": {"rejected": 2}})
    zh, en = flow_svg(counts, load_labels("zh")), flow_svg(counts)
    text = _visible_text(zh)
    for word in ("无神经传导记录：2", "无针极肌电图记录：1", "未注明原因：1", "（2 行无效患者记录未读入）"):
        assert word in text, word
    assert not _english_words_in(text) and not _latin_words(text), sorted(_latin_words(text))
    assert "no nerve conduction rows: 2" in en and "(2 invalid patient rows not read)" in en
    # more than six reasons: the rest counted in the label file's words
    many = dict(counts, reasons=[(f"原因{i}", 1) for i in range(8)])
    assert "……另有 2 种原因" in flow_svg(many, load_labels("zh"))
    assert "… 2 more reasons" in flow_svg(many)


# --- the figures ---------------------------------------------------------------------------

def _svg_text(svg: str) -> str:
    """The words an SVG figure shows (its <text> elements; not its style sheet)."""
    return "\n".join(html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def _figure_latin(text: str) -> set[str]:
    """Latin words of a figure besides the allowed ones, cord segments (C5, T12) and the demo's
    patient ids (NMO-002)."""
    return {w for w in _latin_words(text) if not re.fullmatch(r"[CTLS]\d+|NMO", w)}


@pytest.fixture(scope="module")
def zh_figures(demo_result):
    from edxreview.report._figures import figure_svg
    from edxreview.report._render import study_figures

    return {k: figure_svg(f, k) for k, f in study_figures(demo_result, "zh").items()}


def test_zh_figures_hold_no_english_word(zh_figures):
    assert set(zh_figures) == {"overlap", "segmental_map", "muscles", "nerves"}
    for key, svg in zh_figures.items():
        text = _svg_text(svg)
        assert text.strip(), key
        assert not _english_words_in(text), (key, _english_words_in(text))
        assert not _figure_latin(text), (key, sorted(_figure_latin(text)))
    words = {k: _svg_text(v) for k, v in zh_figures.items()}
    assert "肌电图示失神经（13）" in words["overlap"] and "患者数" in words["overlap"]
    assert "舌下神经核（延髓）" in words["segmental_map"]
    assert "失神经，不能由神经传导解释" in words["segmental_map"]
    assert "胫骨前肌" in words["muscles"] and "所查肌肉数（左右侧分别计数）" in words["muscles"]
    assert "正中神经（运动）" in words["nerves"] and "瞬目反射" in words["nerves"]
    assert "瞬目反射（瞬目反射）" not in words["nerves"]


def test_english_figure_words_are_as_before(demo_result):
    from edxreview.report._figures import MUSCLE_KINDS, figure_svg
    from edxreview.report._render import study_figures

    assert tuple(load_labels("en")["muscle_kinds"]) == MUSCLE_KINDS
    svgs = {k: _svg_text(figure_svg(f, k)) for k, f in study_figures(demo_result).items()}
    assert "Denervation on EMG (13)" in svgs["overlap"]
    assert "XII (medulla)" in svgs["segmental_map"]
    assert "Muscles examined (left and right counted separately)" in svgs["muscles"]
    assert "Tibialis anterior" in svgs["muscles"]
    assert "median (motor)" in svgs["nerves"] and "blink reflex (blink)" in svgs["nerves"]


def test_zh_empty_figures_and_captions(demo_result):
    from edxreview.report._figures import figure_svg, plot_muscle_findings, plot_nerve_findings
    from edxreview.report._render import figure_captions

    none = demo_result.muscles.iloc[:0]
    assert "无针极肌电图记录。" in _svg_text(figure_svg(plot_muscle_findings(none, "zh"), "m"))
    assert "无神经传导检查。" in _svg_text(
        figure_svg(plot_nerve_findings(demo_result.nerves.iloc[:0], "zh"), "n"))
    captions = figure_captions(demo_result, "zh")
    text = "\n".join(t for pair in captions.values() for t in pair)
    assert not _english_words_in(text) and not _figure_latin(text), sorted(_figure_latin(text))
    assert captions["muscles"][1].startswith("按检查次数排列的肌肉（最多 25 块）")
    assert figure_captions(demo_result)["muscles"][0] == "Needle EMG findings per muscle"


def test_missing_fonts_are_said(caplog):
    from edxreview.report._figures import _installed_fonts

    with caplog.at_level("WARNING", logger="edxreview.report._figures"):
        assert _installed_fonts(("DejaVu Sans", "No Such Font Anywhere")) == ("DejaVu Sans",)
    assert "No Such Font Anywhere" in caplog.text and "empty boxes" in caplog.text
    assert _installed_fonts(("DejaVu Sans",)) == ("DejaVu Sans",)


def test_zh_png_draws_every_glyph(demo_result, tmp_path):
    """With a Chinese font installed, the PNG has a glyph for every character (matplotlib
    warns of each one it lacks)."""
    import warnings

    from edxreview.report._figures import _installed_fonts, save_figure
    from edxreview.report._render import study_figures

    if len(_installed_fonts(tuple(load_labels("zh")["figures"]["fonts"]))) < 2:
        pytest.skip("no Chinese font installed")
    fig = study_figures(demo_result, "zh")["muscles"]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font")
        save_figure(fig, tmp_path / "muscles", "muscles", formats=("png", "pdf"))
    assert (tmp_path / "muscles.png").stat().st_size > 10_000


def test_zh_summary_of_an_excluded_patient(demo_result):
    """The exclusion reason of a patient's summary in the label file's words, by its id."""
    import copy

    from edxreview.report._summary import summarize_patients

    result = copy.copy(demo_result)
    patients = demo_result.patients.copy()
    first = patients["patient_id"].iloc[0]
    row = patients["patient_id"] == first
    patients.loc[row, "included"] = False
    patients.loc[row, "exclusion_reason"] = EXCLUSION_REASONS["no_ncs"]
    result.patients = patients
    ids = pd.Series([first])
    assert summarize_patients(result, ids, "zh")[first].startswith("未纳入分析：无神经传导记录。")
    assert summarize_patients(result, ids)[first].startswith(
        "Excluded from the review: no nerve conduction rows.")
