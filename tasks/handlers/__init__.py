"""Lambda entry points, one per state: parse the event, call one step, return a small dict."""
