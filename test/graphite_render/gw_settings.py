# graphite-web 1.1.8 (Debian) settings for graphite_render's tests, selected with
#   GRAPHITE_SETTINGS_MODULE=gw_settings  PYTHONPATH=<this dir>  DJANGO_SETTINGS_MODULE=graphite.settings
# GW_STORAGE_DIR: scratch dir (sqlite db, logs); GW_WHISPER_DIR: the tree to serve ('' = none);
# GW_TAGDB=1: enable the tag database; GW_CLUSTER: host:port of a cluster member to query ('' = none); GW_USE_POST=1: cluster requests by POST.
import os
SECRET_KEY = 'test-only-not-secret'
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
DEBUG = False
LOG_ROTATION = False
DEFAULT_XFILES_FACTOR = 0
GRAPHITE_ROOT = '/usr/share/graphite-web'
STATIC_ROOT = '/usr/share/graphite-web/static'
STORAGE_DIR = os.environ['GW_STORAGE_DIR']
LOG_DIR = os.path.join(STORAGE_DIR, 'log')
INDEX_FILE = os.path.join(STORAGE_DIR, 'search_index')
WHISPER_DIR = os.environ.get('GW_WHISPER_DIR') or os.path.join(STORAGE_DIR, 'empty-whisper')
os.makedirs(WHISPER_DIR, exist_ok=True)
STANDARD_DIRS = [WHISPER_DIR]
CONF_DIR = STORAGE_DIR
CARBONLINK_HOSTS = []
# GW_TAGDB=1: graphite-web's own SQL tag database (series are registered with POST /tags/tagMultiSeries)
TAGDB = 'graphite.tags.localdatabase.LocalDatabaseTagDB' if os.environ.get('GW_TAGDB') == '1' else ''
_cluster = os.environ.get('GW_CLUSTER', '')
CLUSTER_SERVERS = [_cluster] if _cluster else []
REMOTE_STORE_USE_POST = os.environ.get('GW_USE_POST') == '1'
DATABASES = {'default': {'NAME': os.path.join(STORAGE_DIR, 'graphite.db'), 'ENGINE': 'django.db.backends.sqlite3',
                         'USER': '', 'PASSWORD': '', 'HOST': '', 'PORT': ''}}
