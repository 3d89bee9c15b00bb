"""Seed files: validation that names file, field and line; the canonical layout; the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from cms.documents import ArticleDocument, TranslationDocument, seed_file_json_schema
from cms.errors import ContentProblem, InvalidContent
from cms.seed_files import bundled_seed_dir, discover_seed_files, dump_document, read_seed_files
from tests.conftest import REPO, SEED_DIR

VALID = """\
slug: tiny
title: Tiny
status: published
author:
  slug: penci
  name: Penci
benefits:
  - slug: calm
    title: Calm
    body: Calms you.
  - slug: ease
    title: Ease
    body: Eases you.
"""


def _problems(tmp_path: Path, text: str, name: str = "article.yaml") -> list[ContentProblem]:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    with pytest.raises(InvalidContent) as raised:
        read_seed_files([path])
    return raised.value.problems


def _where(problems: list[ContentProblem]) -> list[tuple[str, int | None, str]]:
    return [(p.field, p.line, p.message) for p in problems]


def test_the_shipped_seed_files_are_valid() -> None:
    german, article = read_seed_files(discover_seed_files([SEED_DIR]))  # sorted by name
    assert isinstance(article.document, ArticleDocument)
    assert isinstance(german.document, TranslationDocument)
    assert (article.document.slug, article.document.locale) == ("back-walk", "en")
    assert len(article.document.benefits) == 7
    assert (german.document.translation_of, german.document.locale) == ("back-walk", "de")
    assert list(german.document.benefits) == [b.slug for b in article.document.benefits]
    assert list(german.document.precautions) == [p.slug for p in article.document.precautions]


def test_a_valid_file_reads_into_a_document(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (seed_file,) = read_seed_files([tmp_path / "a.yaml"])
    assert [b.slug for b in seed_file.document.benefits] == ["calm", "ease"]


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, VALID.replace("  - slug: ease", "  - slug: [ease"))
    assert len(problems) == 1
    assert problems[0].file == str(tmp_path / "article.yaml")
    assert (problems[0].line, problems[0].message) == (
        12,
        "invalid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence started on line 11)",
    )


def test_a_missing_field_names_its_path_and_the_line_of_its_parent(tmp_path: Path) -> None:
    problems = _problems(tmp_path, VALID.replace("    body: Eases you.\n", ""))
    assert _where(problems) == [("benefits[1].body", 11, "Field required")]


def test_a_duplicate_slug_points_at_the_second_use(tmp_path: Path) -> None:
    problems = _problems(tmp_path, VALID.replace("slug: ease", "slug: calm"))
    assert _where(problems) == [
        ("benefits[1].slug", 11, "duplicate slug 'calm': already used by benefits[0]")
    ]


def test_a_wrong_type_names_the_field_and_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, VALID.replace("title: Calm", "title: [1, 2]"))
    assert _where(problems) == [("benefits[0].title", 9, "Input should be a valid string")]


def test_a_bad_tag_names_its_place_and_line(tmp_path: Path) -> None:
    text = VALID.replace("status: published", "status: published\ntags:\n  - calm\n  - Two Words")
    assert _where(_problems(tmp_path, text)) == [
        ("tags[1]", 6, "String should match pattern '^[a-z0-9]+(?:-[a-z0-9]+)*$'")
    ]


def test_a_tag_given_twice_is_refused(tmp_path: Path) -> None:
    text = VALID.replace("    title: Ease\n", "    title: Ease\n    tags: [calm, calm]\n")
    assert _where(_problems(tmp_path, text)) == [("benefits[1].tags", 13, "duplicate tag 'calm'")]


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, VALID.replace("title: Tiny", "title: Tiny\ntitel: Tiny"))
    assert _where(problems) == [("titel", 3, "unknown field")]


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, VALID.replace("title: Tiny", "title: Tiny\ntitle: Other"))
    assert _where(problems) == [("title", 3, "duplicate key")]


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    assert _where(_problems(tmp_path, "")) == [("", 1, "the file is empty")]


def test_problems_in_several_files_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID.replace("slug: tiny", "slug: Not A Slug"))
    (tmp_path / "b.yaml").write_text(VALID.replace("status: published", "status: live"))
    with pytest.raises(InvalidContent) as raised:
        read_seed_files(discover_seed_files([tmp_path]))
    assert [(Path(p.file).name, p.field, p.line) for p in raised.value.problems] == [
        ("a.yaml", "slug", 1),
        ("b.yaml", "status", 3),
    ]


def test_two_files_may_not_share_an_article_slug(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID)
    with pytest.raises(InvalidContent) as raised:
        read_seed_files(discover_seed_files([tmp_path]))
    assert [str(p) for p in raised.value.problems] == [
        f"{tmp_path / 'b.yaml'}:1: slug: article slug 'tiny' is also used by "
        f"{tmp_path / 'a.yaml'}:1; give each article its own slug"
    ]


def test_one_author_defined_two_ways_names_both_files_and_lines(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    other = VALID.replace("slug: tiny", "slug: other").replace("name: Penci", "name: Mallory")
    (tmp_path / "b.yaml").write_text(other)
    with pytest.raises(InvalidContent) as raised:
        read_seed_files(discover_seed_files([tmp_path]))
    assert [str(p) for p in raised.value.problems] == [
        f"{tmp_path / 'b.yaml'}:6: author.name: author 'penci' is defined differently in "
        f"{tmp_path / 'a.yaml'}:6; an author must read the same in every file"
    ]


def test_a_missing_path_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InvalidContent) as raised:
        discover_seed_files([tmp_path / "nope.yaml"])
    assert raised.value.problems[0].message == "no such file or folder"


def test_dumping_a_seed_file_reproduces_it_byte_for_byte() -> None:
    path = SEED_DIR / "back-walk.yaml"
    (seed_file,) = read_seed_files([path])
    text = dump_document(seed_file.document, schema_ref="../schema/seed.schema.json")
    assert text == path.read_text("utf-8")


def test_the_checked_in_json_schema_is_current() -> None:
    checked_in = json.loads((REPO / "schema" / "seed.schema.json").read_text("utf-8"))
    assert checked_in == seed_file_json_schema(), (
        "run: cms schema --seed-format > schema/seed.schema.json"
    )


def test_the_json_schema_accepts_the_seed_file_and_rejects_an_unknown_key() -> None:
    schema = seed_file_json_schema()
    data = yaml.safe_load((SEED_DIR / "back-walk.yaml").read_text("utf-8"))
    data["published_at"] = data["published_at"].isoformat()
    jsonschema.validate(data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "titel": "x"}, schema)


def test_seed_files_point_editors_at_the_json_schema() -> None:
    first_line = (SEED_DIR / "back-walk.yaml").read_text("utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../schema/seed.schema.json"
    assert (SEED_DIR / "back-walk.yaml").parent.joinpath(first_line.split("=")[1]).resolve() == (
        REPO / "schema" / "seed.schema.json"
    )


def test_the_package_finds_its_seed_content() -> None:
    assert (bundled_seed_dir() / "back-walk.yaml").is_file()
