"""Placeholder: this page is being built (replaced before it is offered to anyone)."""

import streamlit as st

st.info("This page is not available yet.")
