"""The app's screens: set-up, run dashboard, runs, comparison, and small dialogs."""
