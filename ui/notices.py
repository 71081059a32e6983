"""Notices about the reader's settings, kept until dismissed or until that setting changes, and
text from a visitor made inert before Streamlit renders it as Markdown."""

from __future__ import annotations

import re

import streamlit as st

from explainer.view import SETTINGS, Notice

# every ASCII punctuation character may be backslash-escaped in CommonMark; escaped, none can
# open a link, an image, emphasis, HTML, a heading, Streamlit's :colour[...] or :icon: syntax or
# math ($)
_MARKDOWN = re.compile(r"([!-/:-@\[-`{-~])")
# GitHub's autolinks (http://..., www...., a@b.c) survive escapes: an invisible word joiner
# (U+2060) inside each breaks the pattern and changes nothing a reader sees
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)


def inert(text: str) -> str:
    """`text` as Streamlit shows it literally: Markdown escaped, no autolinks, on one line."""
    return _MARKDOWN.sub(r"\\\1", _AUTOLINK.sub("\u2060", " ".join(str(text).split())))


def keep(found: list[Notice]) -> None:
    """Remember `found`, each with its setting's value now: a notice goes once that value changes."""
    st.session_state.notices = [(notice, _value(notice.setting)) for notice in found]


def show() -> None:
    """Every kept notice whose setting still has its value, each with a button to dismiss it."""
    kept = [(notice, value) for notice, value in st.session_state.get("notices", []) if _value(notice.setting) == value]
    st.session_state.notices = kept
    for index, (notice, _) in enumerate(kept):
        text, dismiss = st.columns([24, 1], vertical_alignment="center")
        text.warning(inert(notice.text))
        dismiss.button(
            "", icon=":material/close:", key=f"dismiss notice {index}", help="Dismiss", on_click=_dismiss, args=(notice,)
        )


def _value(setting: str):
    """A setting's value now; None for a link parameter that is no setting (any name a link may
    carry, the empty one included, which Streamlit refuses as a key)."""
    return st.session_state.get(setting) if setting in SETTINGS else None


def _dismiss(notice: Notice) -> None:
    st.session_state.notices = [(kept, value) for kept, value in st.session_state.notices if kept != notice]
