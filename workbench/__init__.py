"""SFT Workbench core: everything but the pages."""
