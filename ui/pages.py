"""The app's pages: where each lives, its title and icon, in reading order (app.py navigates them,
pages link to each other by these keys)."""

PAGES = {
    "reproduce": "app_pages/reproduce.py",
    "loss_surface": "app_pages/loss_surface.py",
    "fixes": "app_pages/fixes.py",
    "why": "app_pages/why.py",
}
TITLES = {
    "reproduce": ("The answer", ":material/replay:"),
    "loss_surface": ("The loss surface", ":material/landscape:"),
    "fixes": ("Apply the fixes", ":material/build:"),
    "why": ("Why: the mechanism, measured", ":material/search:"),
}
