"""Reading a policy file as the command centre sends it (the page's text box or upload, the
command line): size, encoding and syntax checked before any rule is read, every problem in
Chinese with its line, so a mistake is answered with a list and never a crash."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, datetime

from fangkong.engine.policies import PolicyError

MAX_POLICY_BYTES = 256 * 1024

_WHERE = re.compile(
    r"^(?P<message>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$"
)
# tomllib's messages (Python 3.11), in the words an official reads.
_TOML_MESSAGES = (
    ("Expected '=' after a key in a key/value pair", "键后面应为“=”"),
    ("Invalid value", "值无效(文本须加双引号,时间如 2022-04-23T00:00:00+08:00)"),
    ("Invalid statement", "无法识别的语句"),
    ("Invalid date or datetime", "日期或时间无效"),
    ("Unterminated string", "文本缺少结尾的引号"),
    ("Unclosed array", "列表缺少结尾的“]”"),
    ("Unclosed inline table", "内联表缺少结尾的“}”"),
    ("Expected ']' at the end of a table declaration", "表名后缺少“]”"),
    ("Expected ']]' at the end of an array declaration", "表数组名后缺少“]]”"),
    ("Cannot overwrite a value", "同一个键不能赋值两次"),
    ("Cannot declare", "同一个表不能声明两次"),
    ("Cannot mutate immutable namespace", "不能修改已定义的内联表或列表"),
    ("Cannot redefine namespace", "不能重新定义已有的表"),
    ("Duplicate inline table key", "内联表中的键重复"),
    ("Invalid initial character for a key part", "键名含有无效字符"),
    ("Found invalid character", "含有无效字符"),
    ("Illegal character", "含有不允许的字符"),
    ("Unescaped '\\' in a string", "文本中的“\\”须写成“\\\\”"),
    ("Invalid hex value", "转义字符无效"),
    ("Escaped character is not a Unicode scalar value", "转义字符无效"),
    ("Expected", "格式错误"),
)


def decode(raw: bytes) -> str:
    """The text of an uploaded or named file: at most 256 KB of UTF-8 (a BOM is dropped)."""
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError([f"政策文件过大:{len(raw):,}字节,上限256KB"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            [f"政策文件须为UTF-8编码(第{exc.start + 1}个字节无法按UTF-8读取)"]
        ) from exc
    # Browsers send CRLF line breaks; the published source keeps plain ones.
    return text.replace("\r\n", "\n")


def read_source(text: str) -> dict:
    """A policy file's mapping: TOML, or JSON (a text starting with `{`). Times come back as ISO
    text, so the stored mapping is plain JSON."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise PolicyError(["政策文件过大,上限256KB"])
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError([f"JSON格式错误(第{exc.lineno}行第{exc.colno}列):{exc.msg}"]) from exc
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError([toml_problem(str(exc))]) from exc
    if not isinstance(data, dict):
        raise PolicyError(["政策文件应为一个对象"])
    return _plain(data)


def toml_problem(message: str) -> str:
    """tomllib's error as an official reads it: where, what, and the original words."""
    match = _WHERE.match(message)
    what, where = message, "文件末尾"
    if match:
        what = match["message"]
        if match["line"]:
            where = f"第{match['line']}行第{match['column']}列"
    words = next((zh for en, zh in _TOML_MESSAGES if what.startswith(en)), "格式错误")
    return f"TOML格式错误({where}):{words}。[{what}]"


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
