"""Streamlit pages: one module per page, run by st.navigation in app_streamlit_cloud.py."""
