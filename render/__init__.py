"""Pure rendering: rankings and reports in, PNG, XLSX, CSV and DOCX bytes out.

Depends only on `core`; matplotlib, openpyxl and python-docx are imported inside the functions
that need them, so importing the bot never loads them.
"""
