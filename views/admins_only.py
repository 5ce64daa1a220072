"""What a signed-in creator sees at an admin address (``/health``): a clear "for admins"
message and a way back, instead of Streamlit's generic "Page not found".

Registered in place of the admin page for non-admins (``app_streamlit_cloud._pages``); it
shows nothing of the admin page itself.
"""

from __future__ import annotations

import streamlit as st

from i18n import _
from views._session import CREATE_PAGE, require_user

require_user()
st.title(_("Admins only"))
st.error(_("This page is for administrators only."), icon=":material/lock:")
st.caption(_("If you think you should have access, ask the person who runs this site."))
st.page_link(CREATE_PAGE, label=_("Back to Create"), icon=":material/arrow_back:")
