"""Second baseline for bench/pages.py: hello-world plus one small Plotly chart.

It shows the floor that any page with a Plotly chart pays (the Plotly bundle is ~4.6 MB).
"""

import plotly.graph_objects as go
import streamlit as st

st.title("Hello")
st.metric("Hello", 1)
st.plotly_chart(go.Figure(go.Bar(x=["a", "b"], y=[1, 2])))
