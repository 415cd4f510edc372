"""The OSM tag-filter grammar of catalogue items.

``osm.any`` of an item is a list of *alternatives*; inside one alternative, conditions are
joined by ``" & "``. A condition is ``k=v``, ``k=v1|v2``, ``k=*`` (key present), ``k!=v`` /
``k!=v1|v2`` (negation of ``=``: true when the key is absent), ``k!=*`` (key absent),
``k~regex`` or ``k!~regex`` (Python :func:`re.search`, unanchored). ``k=v`` also matches one
part of a semicolon list (``shop=convenience;hairdresser``). A condition on ``name`` tests
every key of :data:`NAME_KEYS` (true if any matches).

Examples
--------
>>> alt = parse_alternative("amenity=clinic|doctors & name~卫生")
>>> matches_any([alt], {"amenity": "clinic", "name": "社区卫生服务站"})
True
>>> alternative_text(alt)
'amenity=clinic|doctors & name~卫生'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "LIST_VALUED_KEYS",
    "NAME_KEYS",
    "Alternative",
    "Condition",
    "alternative_text",
    "anchor",
    "filters_text",
    "matches_any",
    "parse_alternative",
    "parse_condition",
]

#: Tag keys a condition on ``name`` tests (true if any of them matches).
NAME_KEYS: tuple[str, ...] = ("name", "name:zh", "name:zh-Hans", "name:en", "official_name")
#: Service keys whose values are often ``;``-separated lists in OSM; online queries request
#: any value for them and leave the filtering to :meth:`Catalogue.match`.
LIST_VALUED_KEYS = frozenset({"amenity", "shop", "leisure", "healthcare", "office", "craft"})

_COND_RE = re.compile(r"^(?P<key>[^\s=!~&|]+)\s*(?P<op>!=|!~|=|~)\s*(?P<value>.*)$", re.S)
_AND_RE = re.compile(r"\s+&\s+")


@dataclass(frozen=True)
class Condition:
    """One tag condition of an OSM filter, e.g. ``amenity=clinic|doctors`` or ``name~药``.

    Attributes
    ----------
    key
        The tag key; ``name`` stands for every key of :data:`NAME_KEYS`.
    op
        ``"="``, ``"!="``, ``"~"`` or ``"!~"``.
    values
        The accepted values of ``=``/``!=`` (empty for ``*``, i.e. "key present").
    pattern
        The compiled regex of ``~``/``!~``.
    text
        The condition as written.

    Examples
    --------
    >>> c = parse_condition("shop=convenience|supermarket")
    >>> c.test({"shop": "supermarket"}), c.test({"shop": "convenience;hairdresser"})
    (True, True)
    """

    key: str
    op: str
    values: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    text: str = ""
    _value_set: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_value_set", frozenset(self.values))

    @property
    def positive(self) -> bool:
        """Whether the condition requires the key to be present (``=`` or ``~``).

        Examples
        --------
        >>> parse_condition("access!=private").positive
        False
        """
        return self.op in ("=", "~")

    @property
    def keys(self) -> tuple[str, ...]:
        """The tag keys this condition reads.

        Examples
        --------
        >>> parse_condition("name~药").keys
        ('name', 'name:zh', 'name:zh-Hans', 'name:en', 'official_name')
        """
        return NAME_KEYS if self.key == "name" else (self.key,)

    def test(self, tags: Mapping[str, str]) -> bool:
        """Whether ``tags`` satisfy the condition.

        Examples
        --------
        >>> parse_condition("access!=private").test({})
        True
        """
        present = [tags[k] for k in self.keys if k in tags]
        if self.op in ("=", "!="):
            if not self.values:
                hit = bool(present)
            else:
                split = self.key != "name"
                hit = any(self._has_value(str(v), split) for v in present)
            return hit if self.op == "=" else not hit
        assert self.pattern is not None
        hit = any(self.pattern.search(str(v)) is not None for v in present)
        return hit if self.op == "~" else not hit

    def _has_value(self, value: str, split: bool) -> bool:
        if value in self._value_set:
            return True
        if split and ";" in value:
            return any(part.strip() in self._value_set for part in value.split(";"))
        return False

    def __str__(self) -> str:
        return self.text


def parse_condition(text: str) -> Condition:
    """Parse one condition of the filter grammar.

    Parameters
    ----------
    text
        ``k=v``, ``k=v1|v2``, ``k=*``, ``k!=v``, ``k!=*``, ``k~regex`` or ``k!~regex``.

    Returns
    -------
    Condition

    Raises
    ------
    ValueError
        The text is not a condition (the message says why).

    Examples
    --------
    >>> parse_condition("social_facility:for=senior").values
    ('senior',)
    >>> parse_condition("name~卫生服务站").test({"name:zh": "花园路社区卫生服务站"})
    True
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a condition string such as 'amenity=pharmacy', got {text!r}")
    raw = text.strip()
    if not raw:
        raise ValueError("empty condition; write e.g. 'amenity=pharmacy'")
    m = _COND_RE.match(raw)
    if m is None:
        raise ValueError(
            f"cannot parse condition {raw!r}: write k=v, k=v1|v2, k=*, k!=v, k~regex or "
            "k!~regex with a tag key on the left"
        )
    key, op, value = m.group("key"), m.group("op"), m.group("value").strip()
    if not value:
        raise ValueError(f"condition {raw!r} has no value after {op!r}; use '*' for any value")
    if op in ("~", "!~"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r} in {raw!r}: {exc}") from None
        return Condition(key, op, (), pattern, raw)
    if value == "*":
        return Condition(key, op, (), None, raw)
    if any(ch in value for ch in "&=~"):
        raise ValueError(
            f"condition {raw!r} looks like several conditions run together; join conditions "
            "with ' & ' (spaces around the &)"
        )
    values = tuple(v.strip() for v in value.split("|"))
    if any(not v for v in values) or "*" in values:
        raise ValueError(
            f"condition {raw!r}: every value between '|' must be non-empty and not '*'"
        )
    return Condition(key, op, values, None, raw)


#: One alternative of a filter: conditions that must all hold.
Alternative = tuple[Condition, ...]


def parse_alternative(text: str) -> Alternative:
    """Parse one alternative: conditions joined by ``" & "`` (spaces around the ``&``).

    Raises
    ------
    ValueError
        A condition is not valid (see :func:`parse_condition`).

    Examples
    --------
    >>> [c.key for c in parse_alternative("amenity=cafe & cuisine~tea")]
    ['amenity', 'cuisine']
    """
    return tuple(parse_condition(part) for part in _AND_RE.split(text.strip()))


def alternative_text(alt: Alternative) -> str:
    """One alternative as written: its conditions joined by ``" & "``.

    Examples
    --------
    >>> alternative_text(parse_alternative("amenity=toilets & access!=private"))
    'amenity=toilets & access!=private'
    """
    return " & ".join(c.text for c in alt)


def filters_text(alts: Sequence[Alternative]) -> str:
    """Alternatives as one line joined by ``OR`` (parenthesised when there are several).

    Examples
    --------
    >>> filters_text([parse_alternative("a=1 & b=2"), parse_alternative("c=3")])
    '(a=1 & b=2) OR c=3'
    """
    parts = [alternative_text(a) for a in alts]
    return " OR ".join(
        f"({p})" if len(a) > 1 and len(alts) > 1 else p for p, a in zip(parts, alts, strict=True)
    )


def matches_any(alts: Sequence[Alternative], tags: Mapping[str, str]) -> bool:
    """Whether ``tags`` satisfy every condition of at least one alternative.

    Examples
    --------
    >>> matches_any([parse_alternative("shop=tea")], {"shop": "tea;coffee"})
    True
    """
    return any(all(c.test(tags) for c in alt) for alt in alts)


def anchor(alt: Alternative) -> tuple[str, tuple[str, ...] | None] | None:
    """The condition that fetches the candidates of one alternative: ``(key, values | None)``.

    A ``k=v`` on a key other than ``name`` when there is one, else the first positive
    condition on another key (any value), else ``("name", None)`` when the alternative tests
    the name; ``None`` for an alternative without positive conditions.

    Examples
    --------
    >>> anchor(parse_alternative("name~药 & amenity=pharmacy"))
    ('amenity', ('pharmacy',))
    >>> anchor(parse_alternative("name~药")), anchor(parse_alternative("access!=private"))
    (('name', None), None)
    """
    positive = [c for c in alt if c.positive and c.key != "name"]
    for c in positive:
        if c.op == "=" and c.values:
            return c.key, c.values
    if positive:
        return positive[0].key, None
    if any(c.positive for c in alt):
        return "name", None
    return None
