"""The science of Learning Theory Lab: pure functions, no streamlit, no altair."""
