"""Story Relay's domain: workshops, participants, stories, the journey map and the report.

Plain Python with no Streamlit import, so every rule is unit-tested without a browser.
"""
