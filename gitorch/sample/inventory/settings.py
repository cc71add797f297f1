import yaml


def parse_settings(text):
    return yaml.load(text)
