"""Baseline for bench/pages.py: the smallest Streamlit page."""

import streamlit as st

st.title("Hello")
st.metric("Hello", 1)
