"""Second baseline for bench/pages.py: hello-world plus one small Plotly chart, or with `?map=1`
one small MapLibre map drawn as the app's maps are (white background, no tiles, two points).

It shows the floor that any page with a Plotly chart (the Plotly bundle is ~4.7 MB) or a map
(MapLibre draws with WebGL, in software on a machine without a GPU) pays.
"""

import plotly.graph_objects as go
import streamlit as st

st.title("Hello")
st.metric("Hello", 1)
if st.query_params.get("map"):
    fig = go.Figure(go.Scattermap(lat=[53.87, 48.14], lon=[10.69, 11.58], mode="markers",
                                  marker={"size": 12}))
    fig.update_layout(map={"style": "white-bg", "center": {"lat": 51.16, "lon": 10.45},
                           "zoom": 4.6}, margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=620)
    st.plotly_chart(fig)
else:
    st.plotly_chart(go.Figure(go.Bar(x=["a", "b"], y=[1, 2])))
