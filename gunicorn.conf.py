"""gunicorn settings: `gunicorn -c gunicorn.conf.py 'sender_service.app:create_app()'`.

Logs go through Replyline's one logging setup (JSON lines, secrets redacted).
"""

from sender_service.logs import dict_config

logconfig_dict = dict_config()
