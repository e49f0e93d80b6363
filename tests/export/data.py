"""Awkward text used by the export tests."""

INJECTIONS = ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1:A2)", "\tTabbed", "\rCarriage"]
UNICODE_NAMES = ["山田 太郎", "Γιώργος Παπαδόπουλος", "Иван Петров", "محمد علي", "Zoë 😀"]
