"""One Textual screen per wizard step, and the widgets they share."""
