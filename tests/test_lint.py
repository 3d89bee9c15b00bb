"""`cms lint`: the editorial rules, their exact findings, and the command's exit codes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from cms.cli import app
from cms.lint import Finding, LintRules, Rule, Severity, lint_paths, reading_grade
from tests.conftest import FIXTURES, SEED_DIR

LINT = FIXTURES / "lint"
FLAWED = LINT / "flawed"
CLEAN = LINT / "clean"
TODAY = date(2026, 11, 27)
runner = CliRunner()


def _summary(findings: list[Finding]) -> list[tuple[str, int | None, str, Rule]]:
    return [(Path(f.file).name, f.line, f.field, f.rule) for f in findings]


def test_flawed_files_yield_exactly_their_findings() -> None:
    findings = lint_paths([FLAWED], LintRules(today=TODAY))
    assert _summary(findings) == [
        ("broken.yaml", 3, "author.name", Rule.INVALID),
        ("broken.yaml", 5, "author.nme", Rule.INVALID),
        ("claims.yaml", 2, "title", Rule.ABSOLUTE_CLAIM),
        ("claims.yaml", 8, "review.reviewed_on", Rule.REVIEW_OVERDUE),
        ("claims.yaml", 11, "intro", Rule.ABSOLUTE_CLAIM),
        ("claims.yaml", 11, "intro", Rule.ABSOLUTE_CLAIM),
        ("claims.yaml", 12, "intro", Rule.BROKEN_LINK),
        ("claims.yaml", 13, "benefits", Rule.MISSING_PRECAUTIONS),
        ("claims.yaml", 14, "benefits[0].citations", Rule.BENEFIT_WITHOUT_SOURCE),
        ("claims.yaml", 16, "benefits[0].body", Rule.THIN_BENEFIT),
        ("claims.yaml", 17, "benefits[1].citations", Rule.BENEFIT_WITHOUT_SOURCE),
        ("claims.yaml", 18, "benefits[1].title", Rule.DUPLICATE_BENEFIT_TITLE),
        ("claims.yaml", 20, "benefits[1].body", Rule.ABSOLUTE_CLAIM),
        ("claims.yaml", 21, "benefits[1].body", Rule.BROKEN_LINK),
        ("unreviewed.yaml", 1, "slug", Rule.REVIEW_MISSING),
        ("unreviewed.yaml", 6, "benefits", Rule.MISSING_PRECAUTIONS),
        ("unreviewed.yaml", 7, "benefits[0].citations", Rule.BENEFIT_WITHOUT_SOURCE),
    ]


def test_findings_name_what_is_wrong() -> None:
    messages = {
        (Path(f.file).name, f.line, f.rule): f.message
        for f in lint_paths([FLAWED], LintRules(today=TODAY))
    }
    assert messages[("claims.yaml", 2, Rule.ABSOLUTE_CLAIM)].startswith("absolute claim 'Miracle'")
    assert messages[("claims.yaml", 12, Rule.BROKEN_LINK)] == (
        "link '/articles/missing' points to article 'missing', which no linted file holds"
    )
    assert messages[("claims.yaml", 8, Rule.REVIEW_OVERDUE)] == (
        "last reviewed 2024-01-01, 1061 days ago; a review was due by 2024-12-31"
    )
    assert messages[("claims.yaml", 16, Rule.THIN_BENEFIT)] == (
        "the body is one word; say what the benefit is and why"
    )
    assert messages[("claims.yaml", 14, Rule.BENEFIT_WITHOUT_SOURCE)] == (
        "benefit 'calm' cites no source; every claim needs one"
    )
    assert messages[("claims.yaml", 18, Rule.DUPLICATE_BENEFIT_TITLE)] == (
        "title 'CALM' repeats benefits[0].title"
    )
    assert messages[("broken.yaml", 5, Rule.INVALID)] == "unknown field"


def test_review_rules_are_warnings_and_the_rest_errors() -> None:
    severities = {f.rule: f.severity for f in lint_paths([FLAWED], LintRules(today=TODAY))}
    assert severities.pop(Rule.REVIEW_MISSING) is Severity.WARNING
    assert severities.pop(Rule.REVIEW_OVERDUE) is Severity.WARNING
    assert severities.pop(Rule.BENEFIT_WITHOUT_SOURCE) is Severity.WARNING
    assert set(severities.values()) == {Severity.ERROR}


def test_without_warnings_exactly_the_errors_are_found() -> None:
    """What `cms seed` runs: it drops warnings, so it skips the rules that only warn."""
    every = lint_paths([FLAWED], LintRules(today=TODAY))
    errors_only = lint_paths([FLAWED], LintRules(today=TODAY, warnings=False))
    assert errors_only == [f for f in every if f.severity is Severity.ERROR]
    assert len(errors_only) < len(every)


def test_clean_files_have_no_findings_and_links_resolve_among_them() -> None:
    # stretching links to walking (absolute and relative), walking links off-site only.
    assert lint_paths([CLEAN], LintRules(today=TODAY)) == []


def test_a_link_to_an_article_outside_the_linted_files_is_broken() -> None:
    findings = lint_paths([CLEAN / "stretching.yaml"], LintRules(today=TODAY))
    assert _summary(findings) == [
        ("stretching.yaml", 15, "intro", Rule.BROKEN_LINK),
        ("stretching.yaml", 16, "intro", Rule.BROKEN_LINK),
    ]


def test_review_age_is_configurable() -> None:
    findings = lint_paths([CLEAN], LintRules(today=TODAY, review_max_age_days=100))
    assert _summary(findings) == [
        ("stretching.yaml", 13, "review.reviewed_on", Rule.REVIEW_OVERDUE),
        ("walking.yaml", 11, "review.reviewed_on", Rule.REVIEW_OVERDUE),
    ]


def test_claims_are_whole_words_from_a_configurable_list() -> None:
    # "secure" holds "cure" but is no claim by default; listed itself, it is found.
    assert lint_paths([CLEAN], LintRules(today=TODAY)) == []
    findings = lint_paths([CLEAN], LintRules(today=TODAY, absolute_claims=["Secure"]))
    assert _summary(findings) == [("stretching.yaml", 21, "benefits[0].body", Rule.ABSOLUTE_CLAIM)]


def test_a_missing_path_is_reported_as_invalid(tmp_path: Path) -> None:
    findings = lint_paths([tmp_path / "nope"], LintRules(today=TODAY))
    assert [(f.file, f.rule, f.message) for f in findings] == [
        (str(tmp_path / "nope"), Rule.INVALID, "no such file or folder")
    ]


def test_lint_command_fails_on_errors_with_one_line_per_finding() -> None:
    result = runner.invoke(app, ["lint", str(FLAWED / "unreviewed.yaml"), "--format", "plain"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{FLAWED / 'unreviewed.yaml'}:1: warning [review-missing] slug: no review: "
        "the article has no recorded medical review",
        f"{FLAWED / 'unreviewed.yaml'}:6: error [missing-precautions] benefits: the article "
        "states benefits but has no published precautions; a benefit never travels without its "
        "safety context",
        f"{FLAWED / 'unreviewed.yaml'}:7: warning [benefit-without-source] "
        "benefits[0].citations: benefit 'flexibility' cites no source; every claim needs one",
        "1 error(s), 2 warning(s).",
    ]


def test_lint_command_passes_warnings_unless_strict() -> None:
    args = ["lint", str(CLEAN), "--format", "plain", "--max-review-age", "1"]
    relaxed = runner.invoke(app, args)
    strict = runner.invoke(app, [*args, "--strict"])
    assert (relaxed.exit_code, strict.exit_code) == (0, 1)
    assert relaxed.output.splitlines()[-1] == "0 error(s), 2 warning(s)."
    assert strict.output == relaxed.output


def test_lint_command_takes_claims_as_options() -> None:
    args = ["lint", str(CLEAN), "--format", "plain", "--max-review-age", "100000"]
    assert runner.invoke(app, args).exit_code == 0
    flagged = runner.invoke(app, [*args, "--claim", "gradual", "--claim", "gentle"])
    assert flagged.exit_code == 1
    assert [line.split(": ", 1)[1][:30] for line in flagged.output.splitlines()[:-1]] == [
        "error [absolute-claim] intro: ",
        "error [absolute-claim] benefit",
    ]


def test_lint_command_prints_a_table_on_request() -> None:
    result = runner.invoke(app, ["lint", str(FLAWED / "unreviewed.yaml"), "--format", "table"])
    assert result.exit_code == 1
    assert "missing-precautions" in result.output
    assert "review-missing" in result.output
    assert result.output.splitlines()[-1] == "1 error(s), 2 warning(s)."


def test_the_shipped_seed_lints_without_errors() -> None:
    # The source article names no medical reviewer or review date, and inventing one would
    # misstate its provenance: the missing review stays a warning.
    # Nor does it cite sources, and inventing those would be worse: each unsourced benefit is a
    # warning, and `--strict` (CI for new content) fails on them.
    result = runner.invoke(app, ["lint", str(SEED_DIR), "--format", "plain"])
    strict = runner.invoke(app, ["lint", str(SEED_DIR), "--format", "plain", "--strict"])
    assert (result.exit_code, strict.exit_code) == (0, 1)
    lines = result.output.splitlines()
    assert lines[0] == (
        f"{SEED_DIR / 'back-walk.yaml'}:2: warning [review-missing] slug: no review: the article "
        "has no recorded medical review"
    )
    rules = [line.split("[", 1)[1].split("]", 1)[0] for line in lines[:-1]]
    assert (rules.count("benefit-without-source"), rules.count("reading-level")) == (7, 6)
    assert lines[-1] == "0 error(s), 14 warning(s)."


def test_reading_grade_tells_plain_prose_from_dense_prose() -> None:
    plain = (
        "Walk backwards on flat ground. Go slowly. Hold a rail if you need one. Stop if it "
        "hurts. Most people feel their thighs work harder. That is normal. Rest the next day."
    )
    dense = (
        "Retrograde ambulation substantially modifies neuromuscular activation, preferentially "
        "recruiting quadriceps musculature while concomitantly attenuating patellofemoral "
        "compressive loading, thereby potentially facilitating rehabilitation following "
        "orthopaedic intervention in appropriately selected individuals. Contraindications "
        "encompass uncontrolled cardiovascular instability and vestibular dysfunction."
    )
    plain_grade, dense_grade = reading_grade(plain), reading_grade(dense)
    assert plain_grade is not None and plain_grade <= 8
    assert dense_grade is not None and dense_grade > 8
    assert reading_grade("Too short to grade.") is None


def _with_meta(tmp_path: Path, meta: str) -> Path:
    path = tmp_path / "walking.yaml"
    path.write_text((CLEAN / "walking.yaml").read_text().replace("title: ", meta + "title: ", 1))
    return path


def test_meta_texts_search_engines_would_cut_off_are_warnings(tmp_path: Path) -> None:
    meta = f"meta_title: {'T' * 61}\nmeta_description: Too short.\n"
    findings = lint_paths([_with_meta(tmp_path, meta)], LintRules(today=TODAY))
    assert [(f.line, f.field, f.rule, f.severity, f.message) for f in findings] == [
        (
            2, "meta_title", Rule.META_TITLE_LENGTH, Severity.WARNING,
            "61 characters; search engines show about 60",
        ),
        (
            3, "meta_description", Rule.META_DESCRIPTION_LENGTH, Severity.WARNING,
            "10 characters; search engines show 50 to 160",
        ),
    ]  # fmt: skip
    meta = f"meta_title: {'T' * 60}\nmeta_description: {'D' * 161}\n"
    findings = lint_paths([_with_meta(tmp_path, meta)], LintRules(today=TODAY))
    assert [(f.field, f.message) for f in findings] == [
        ("meta_description", "161 characters; search engines show 50 to 160")
    ]


def test_meta_texts_within_their_lengths_or_left_empty_pass(tmp_path: Path) -> None:
    meta = f"meta_title: {'T' * 60}\nmeta_description: {'D' * 50}\n"
    assert lint_paths([_with_meta(tmp_path, meta)], LintRules(today=TODAY)) == []
    assert lint_paths([_with_meta(tmp_path, "")], LintRules(today=TODAY)) == []
