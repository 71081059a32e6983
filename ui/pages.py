"""The app's pages, one record each, in reading order: app.py navigates them, each page ends with
a link to the next one (the last back to the first), and a claim of the answer links to the page
that shows its evidence. Adding a page is its file in app_pages/ and its record here: the tests
and benchmarks that open every page read these records."""

import dataclasses

import streamlit as st


@dataclasses.dataclass(frozen=True)
class Page:
    """path: its script. title, icon: in the navigation. lead: the words of the link that leads
    to it from the page before. last_section: the heading of its last section, which appears once
    the page has rendered (browsers wait for it). evidence: the measurements it shows at length
    (answer.Claim). view: whether it shows the sidebar's view (trains its runs). first_action: the
    button a reader presses before it shows all it can (None: it shows all by itself)."""

    path: str
    title: str
    icon: str
    lead: str
    last_section: str
    evidence: tuple[str, ...] = ()
    view: bool = True
    first_action: str | None = None

    @property
    def name(self) -> str:
        """Its script's name, which its link's path is (the first page's link has none)."""
        return self.path.removeprefix("app_pages/").removesuffix(".py")

    @property
    def url_path(self) -> str:
        return "" if self is PAGES[0] else self.name


PAGES = (
    Page(
        "app_pages/reproduce.py",
        "The answer",
        ":material/replay:",
        "Back to the answer",
        "log-log slope of final loss",
        ("reproduction",),
    ),
    Page(
        "app_pages/loss_surface.py",
        "The loss surface",
        ":material/landscape:",
        "Next: where each SGD step lands on the loss surface",
        "The plane of d1 and d2",
        ("surface",),
    ),
    Page(
        "app_pages/fixes.py",
        "Apply the fixes",
        ":material/build:",
        "Next: what each fix changes",
        "The accepted answer, checked",
        ("fixes",),
    ),
    Page(
        "app_pages/why.py",
        "Why: the mechanism, measured",
        ":material/search:",
        "Next: why, step by step, each step measured",
        "6. The misclassified images",
        ("mechanism",),
    ),
    Page(
        "app_pages/your_case.py",
        "Your own case",
        ":material/troubleshoot:",
        "Next: is your own code, or your training log, this puzzle?",
        "Everything checked",
        view=False,
        first_action="Fill in the question's code and logs",
    ),
)


def navigation() -> None:
    """The pages in reading order, the first one the landing page; runs the one the link asks for."""
    st.navigation([st.Page(page.path, title=page.title, icon=page.icon, default=page is PAGES[0]) for page in PAGES]).run()


def link_next(script: str) -> None:
    """The link at the end of the page whose script is `script`: to the next page, or back to the first."""
    index = [page.path for page in PAGES].index(_relative(script))
    following = PAGES[(index + 1) % len(PAGES)]
    icon = ":material/arrow_back:" if following is PAGES[0] else ":material/arrow_forward:"
    st.page_link(following.path, label=following.lead, icon=icon)


def showing(evidence: str) -> str:
    """The script of the page that shows `evidence` at length."""
    return next(page.path for page in PAGES if evidence in page.evidence)


def _relative(script: str) -> str:
    parts = script.replace("\\", "/").split("/")
    return "/".join(parts[-2:])
