"""From settings to resource specs: a whole dlt `rest_api` config or the flat settings, built-ins as data."""
