from datetime import date

import pytest

from imports.deadlines import Deadline, DeadlineError, parse_deadline, parse_rectification_deadline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6月底前", date(2018, 6, 30)),
        ("10月底前", date(2018, 10, 31)),
        ("10月底", date(2018, 10, 31)),
        ("4月末", date(2018, 4, 30)),
        ("2月底前", date(2018, 2, 28)),
        ("十月底前", date(2018, 10, 31)),
        ("10月底前完成", date(2018, 10, 31)),
        ("于10月底前完成", date(2018, 10, 31)),
        ("11月30日前", date(2018, 11, 30)),
        ("11月30日", date(2018, 11, 30)),
        ("11月30日之前", date(2018, 11, 30)),
        ("十一月三十日前", date(2018, 11, 30)),
        ("年底前", date(2018, 12, 31)),
        ("年内", date(2018, 12, 31)),
        ("年内完成", date(2018, 12, 31)),
        ("年底", date(2018, 12, 31)),
        ("2025年12月31日", date(2025, 12, 31)),
        ("2025年12月31日前", date(2025, 12, 31)),
        ("2019年4月底前", date(2019, 4, 30)),
        ("2019年底前", date(2019, 12, 31)),
        ("2025-12-31", date(2025, 12, 31)),
        ("2025.12.31", date(2025, 12, 31)),
        ("2025/1/5", date(2025, 1, 5)),
        ("明年6月底前", date(2019, 6, 30)),
        ("今年年底前", date(2018, 12, 31)),
        ("三季度末", date(2018, 9, 30)),
        ("第三季度末", date(2018, 9, 30)),
        ("一季度末", date(2018, 3, 31)),
        ("第二季度末", date(2018, 6, 30)),
        ("四季度末", date(2018, 12, 31)),
        ("上半年", date(2018, 6, 30)),
        ("上半年完成", date(2018, 6, 30)),
        ("下半年", date(2018, 12, 31)),
        ("6月上旬", date(2018, 6, 10)),
        ("6月中旬", date(2018, 6, 20)),
        ("6月中旬前", date(2018, 6, 20)),
        ("6月下旬", date(2018, 6, 30)),
        ("2月下旬", date(2018, 2, 28)),
    ],
)
def test_dated_forms(text, expected):
    assert parse_deadline(text, 2018) == Deadline(due_date=expected)


def test_the_last_day_of_february_follows_the_year():
    assert parse_deadline("2月底前", 2020).due_date == date(2020, 2, 29)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("１０月底前", date(2018, 10, 31)),
        (" 11 月 30 日前 ", date(2018, 11, 30)),
        ("２０２５年１２月３１日", date(2025, 12, 31)),
        ("11月30日前。", date(2018, 11, 30)),
        ("\u300010月底前\u3000", date(2018, 10, 31)),
    ],
)
def test_full_width_digits_and_spaces_are_tolerated(text, expected):
    assert parse_deadline(text, 2018).due_date == expected


@pytest.mark.parametrize("text", ["长期坚持", "持续推进", " 长期坚持 "])
def test_ongoing_work_has_no_date(text):
    assert parse_deadline(text, 2018) == Deadline(due_date=None, ongoing=True)


@pytest.mark.parametrize("text", ["每月28日前", "每月28日", "每月２８日前报送", "每月二十八日前"])
def test_monthly_reports_recur(text):
    deadline = parse_deadline(text, 2018)
    assert (deadline.due_date, deadline.ongoing, deadline.recurring) == (None, False, "每月28日")
    assert (deadline.cadence, deadline.day) == ("monthly", 28)


@pytest.mark.parametrize(
    ("text", "due_date", "ongoing", "cadence", "day", "wording"),
    [
        ("每月底", None, False, "monthly", 31, "每月底"),
        ("每季度末", None, False, "quarterly", None, "每季度末"),
        ("每季度最后一个月20日前", None, False, "quarterly", 20, "每季度最后一个月20日前"),
        ("每周五", None, False, "weekly", 5, "每周五"),
        ("每周五前", None, False, "weekly", 5, "每周五前"),
        ("每周一报送", None, False, "weekly", 1, "每周一报送"),
        ("长期坚持，每月28日前报送", None, True, "monthly", 28, "每月28日前报送"),
        ("12月底前完成，每季度末报送", date(2018, 12, 31), False, "quarterly", None, "每季度末报送"),
    ],
)
def test_report_schedules_are_read_beside_the_works_date(text, due_date, ongoing, cadence, day, wording):
    deadline = parse_deadline(text, 2018)
    assert (deadline.due_date, deadline.ongoing, deadline.cadence, deadline.day, deadline.wording) == (
        due_date,
        ongoing,
        cadence,
        day,
        wording,
    )


@pytest.mark.parametrize("text", ["每月28日前，每周五", "10月底前，11月30日前，每周五", "每月32日前"])
def test_two_schedules_or_two_dates_in_one_cell_are_refused(text):
    with pytest.raises(DeadlineError):
        parse_deadline(text, 2018)


@pytest.mark.parametrize(
    "text",
    [
        "下个月",
        "尽快",
        "按要求",
        "6月前",
        "10月",
        "月底前",
        "底前",
        "6月底前完成初验，10月底前全面完成",
        "五季度末",
        "每周八",
        "2025年",
        "2018年10月31日至11月30日",
    ],
)
def test_anything_else_is_refused(text):
    with pytest.raises(DeadlineError) as error:
        parse_deadline(text, 2018)

    assert error.value.code == "unrecognised_deadline"
    assert error.value.text == text
    assert text in error.value.message


@pytest.mark.parametrize(
    "text", ["2025-02-30", "2月30日前", "13月底前", "11月31日", "每月32日", "2025.13.01"]
)
def test_dates_that_do_not_exist_are_refused(text):
    with pytest.raises(DeadlineError) as error:
        parse_deadline(text, 2025)

    assert error.value.code == "invalid_date"


@pytest.mark.parametrize("text", ["", "  ", "\u3000"])
def test_an_empty_deadline_is_an_error_of_its_own(text):
    with pytest.raises(DeadlineError) as error:
        parse_deadline(text, 2018)

    assert error.value.code == "empty_deadline"


def test_deadline_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_deadline("尽快", 2018)


@pytest.mark.parametrize("text", ["立行立改", " 立行立改。", "立即整改", "即知即改"])
def test_a_rectification_list_may_say_fix_it_at_once(text):
    assert parse_rectification_deadline(text, 2019) == Deadline(due_date=None, immediate=True)


def test_a_rectification_deadline_reads_the_task_tables_forms_too():
    assert parse_rectification_deadline("2019年12月底", 2018).due_date == date(2019, 12, 31)
    assert parse_rectification_deadline("11月30日前", 2019).due_date == date(2019, 11, 30)


def test_in_a_task_table_fix_it_at_once_is_no_deadline():
    with pytest.raises(DeadlineError):
        parse_deadline("立行立改", 2019)
