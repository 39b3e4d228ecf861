"""The directory's columns and how its cells are read: unit kinds and roles as offices write them."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from imports.table import RowError, TableShape
from imports.text import compact
from responsibility.models import Role, UnitKind

COLUMNS = (
    "unit",
    "parent",
    "kind",
    "short_name",
    "unit_email",
    "full_name",
    "title",
    "mobile",
    "email",
    "role",
    "username",
)
LABELS = {
    "unit": "单位",
    "parent": "上级单位",
    "kind": "类别",
    "short_name": "简称",
    "unit_email": "单位邮箱",
    "full_name": "姓名",
    "title": "职务",
    "mobile": "手机",
    "email": "邮箱",
    "role": "角色",
    "username": "用户名",
}
VARIANTS = {
    "unit": ("单位", "单位名称", "所在单位", "工作单位"),
    "parent": ("上级单位", "上级", "隶属单位", "上级部门"),
    "kind": ("类别", "单位类别", "层级", "单位类型", "类型"),
    "short_name": ("简称", "单位简称"),
    "unit_email": ("单位邮箱", "单位电子邮箱", "单位邮件"),
    "full_name": ("姓名", "人员", "联系人", "责任人"),
    "title": ("职务", "职务职级"),
    "mobile": ("手机", "手机号", "手机号码", "移动电话", "联系电话", "电话"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "e-mail", "email", "E-mail", "Email"),
    "role": ("角色", "身份"),
    "username": ("用户名", "账号", "登录名"),
}
DIRECTORY = TableShape(columns=COLUMNS, labels=LABELS, variants=VARIANTS, key="unit")

# The words offices use for each kind of unit; the model's own labels and values count too.
KIND_WORDS = {
    UnitKind.PROVINCE: ("省", "省级"),
    UnitKind.CITY: ("市", "地级市", "市级"),
    UnitKind.COUNTY: ("县(市)区", "县", "区", "县级市", "县区", "县(市、区)", "县级"),
    UnitKind.TOWNSHIP: ("乡镇", "乡", "镇", "街道", "乡镇(街道)", "乡级"),
    UnitKind.VILLAGE: ("村", "社区", "村(社区)", "行政村"),
    UnitKind.DEPARTMENT: ("部门", "市直部门", "县直部门", "单位", "委办局"),
    UnitKind.LEADING_GROUP: ("领导小组/指挥部", "领导小组", "指挥部"),
    UnitKind.SUPERVISION_OFFICE: ("督查室", "督考办", "督查办", "督办室"),
}
ROLE_WORDS = {
    Role.MEMBER: ("成员", "工作人员", "干部", "联络员"),
    Role.HEAD: ("负责人", "主要负责人", "一把手", "主要领导"),
    Role.SUPERVISOR: ("督查人员", "督查员", "督查专员"),
    Role.LEADER: ("领导", "分管领导", "联系领导", "包保领导"),
}


def _lookup(words: dict) -> dict[str, str]:
    table = {}
    for value, names in words.items():
        for name in (*names, value.label, value.value):
            table[compact(str(name)).lower()] = value.value
    return table


_KINDS = _lookup(KIND_WORDS)
_ROLES = _lookup(ROLE_WORDS)
_MOBILE = re.compile(r"^\+?[0-9][0-9 \-()]{4,28}$")


def kind_label(kind: str) -> str:
    return str(UnitKind(kind).label)


def role_label(role: str) -> str:
    return str(Role(role).label)


def read_kind(text: str, row: int) -> tuple[str, RowError | None]:
    if not text:
        return "", None
    kind = _KINDS.get(compact(text).lower())
    if kind is None:
        known = "、".join(str(kind.label) for kind in UnitKind)
        return "", RowError(
            row,
            "kind",
            "unknown_kind",
            _("类别“%(text)s”无法识别，可填：%(known)s。") % {"text": text, "known": known},
        )
    return kind, None


def read_role(text: str, row: int) -> tuple[str, RowError | None]:
    if not text:
        return Role.MEMBER.value, None
    role = _ROLES.get(compact(text).lower())
    if role is None:
        known = "、".join(str(role.label) for role in Role)
        return "", RowError(
            row,
            "role",
            "unknown_role",
            _("角色“%(text)s”无法识别，可填：%(known)s。") % {"text": text, "known": known},
        )
    return role, None


def read_mobile(text: str, row: int) -> tuple[str, RowError | None]:
    text = text.strip()
    if not text or _MOBILE.match(text):
        return text, None
    return "", RowError(row, "mobile", "invalid_phone", _("手机号码“%(text)s”格式不正确。") % {"text": text})


def read_email(text: str, row: int, column: str) -> tuple[str, RowError | None]:
    text = text.strip()
    if not text:
        return "", None
    try:
        validate_email(text)
    except ValidationError:
        return "", RowError(row, column, "invalid_email", _("邮箱“%(text)s”格式不正确。") % {"text": text})
    return text, None
