//! Pure rendering: verdict → check-run output and comment markdown.
