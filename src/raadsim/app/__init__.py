"""The local web explorer (``raadsim app``): a Dash app over the same scenario API as the CLI.

Modules: :mod:`.form` (form values → scenario dict, errors → form fields), :mod:`.compute`
(simulation with a cache of compiled models), :mod:`.figures` (plotly cascade and trial
figures), :mod:`.trial_jobs` (virtual trials in a background thread with progress),
:mod:`.layout`, :mod:`.callbacks` and :mod:`.server` (``create_app``).
"""
