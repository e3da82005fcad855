"""The review desk (审核): change sets of collected work approved or returned, station then district."""
