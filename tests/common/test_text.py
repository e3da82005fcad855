"""Specification of free-text and person-name validation."""

from __future__ import annotations

import pytest

from liangshi.common.text import clean_person_name, clean_text, halfwidth_alnum
from liangshi.errors import ValidationFailed


class TestCleanText:
    def test_strips_whitespace(self) -> None:
        assert clean_text("  鄂城区凤凰街道\u3000", field="note", max_len=50) == "鄂城区凤凰街道"

    def test_full_width_letters_and_digits_become_ascii(self) -> None:
        assert clean_text("Ａ栋５０１室", field="room", max_len=20) == "A栋501室"

    def test_chinese_punctuation_is_kept(self) -> None:
        text = "房东说：租客（张三）已搬走，去向不明！"
        assert clean_text(text, field="note", max_len=100) == text

    def test_full_width_semicolon_is_chinese_punctuation(self) -> None:
        assert clean_text("一楼；二楼", field="note", max_len=20) == "一楼；二楼"

    @pytest.mark.parametrize(
        ("value", "char"),
        [
            ("<script>", "<"),
            ("a > b", ">"),
            ("x; drop table person", ";"),
            ("C:\\path", "\\"),
            ("name' --", "--"),
            ("a /* b", "/*"),
        ],
    )
    def test_forbidden_characters_are_refused(self, value: str, char: str) -> None:
        with pytest.raises(ValidationFailed) as info:
            clean_text(value, field="remark", max_len=100)
        err = info.value
        assert err.code == "text.forbidden"
        assert err.data == {"field": "remark", "char": char}
        assert "remark" in err.message_zh and char in err.message_zh

    @pytest.mark.parametrize("value", ["a\x00b", "a\x07b", "line1\nline2", "a\u202eb", "a\u200bb"])
    def test_control_characters_are_refused(self, value: str) -> None:
        with pytest.raises(ValidationFailed) as info:
            clean_text(value, field="remark", max_len=100)
        assert info.value.code == "text.forbidden"

    def test_multiline_allows_newlines(self) -> None:
        assert clean_text("一\r\n二\n", field="remark", max_len=10, multiline=True) == "一\n二"

    def test_single_hyphen_and_slash_are_fine(self) -> None:
        assert clean_text("12-1号 3/4", field="plate", max_len=20) == "12-1号 3/4"

    def test_too_long_is_refused(self) -> None:
        with pytest.raises(ValidationFailed) as info:
            clean_text("一" * 11, field="street", max_len=10)
        assert info.value.code == "text.too_long"
        assert info.value.data["field"] == "street"
        assert clean_text("一" * 10, field="street", max_len=10) == "一" * 10

    @pytest.mark.parametrize("value", ["", "   ", "\u3000\t"])
    def test_empty_is_refused(self, value: str) -> None:
        with pytest.raises(ValidationFailed) as info:
            clean_text(value, field="street", max_len=10)
        assert info.value.code == "text.empty"

    def test_halfwidth_alnum_only_touches_letters_digits_and_ideographic_space(self) -> None:
        assert halfwidth_alnum("ｘ１！\u3000，") == "x1！ ，"


class TestPersonName:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("张三", "张三"),
            (" 欧阳 娜娜 ", "欧阳 娜娜"),
            ("买买提・艾力", "买买提·艾力"),
            ("买买提•艾力", "买买提·艾力"),
            ("买买提·艾力", "买买提·艾力"),
            ("John Smith", "John Smith"),
            ("Ｊｏｈｎ", "John"),
            ("O'Brien", "O'Brien"),
            ("O’Brien", "O'Brien"),
            ("Jean-Luc  Picard", "Jean-Luc Picard"),
            ("José Müller", "José Müller"),
            ("𠀀明", "𠀀明"),
            ("王〇", "王〇"),
        ],
    )
    def test_valid_names(self, value: str, expected: str) -> None:
        assert clean_person_name(value) == expected

    @pytest.mark.parametrize(
        "value",
        ["", "   ", "张3", "张三!", "<b>", "·张三", "张三-", "a" * 51, "Иван", "张\u200b三", "张;三"],
    )
    def test_invalid_names(self, value: str) -> None:
        with pytest.raises(ValidationFailed) as info:
            clean_person_name(value, field="guardian_name")
        assert info.value.code == "name.invalid"
        assert info.value.data == {"field": "guardian_name", "input": value}

    def test_fifty_characters_is_the_limit(self) -> None:
        assert clean_person_name("a" * 50) == "a" * 50

    def test_default_field_is_name(self) -> None:
        with pytest.raises(ValidationFailed) as info:
            clean_person_name("1")
        assert info.value.data["field"] == "name"
