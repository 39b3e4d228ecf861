from django.db import migrations

# On PostgreSQL the history refuses UPDATE and DELETE in the database itself, so no code
# path (raw SQL, a bulk update, a careless script) can rewrite what happened.
CREATE = """
CREATE OR REPLACE FUNCTION duban_refuse_history_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'task history is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER tasks_taskevent_append_only
    BEFORE UPDATE OR DELETE ON tasks_taskevent
    FOR EACH ROW EXECUTE FUNCTION duban_refuse_history_change();
"""
DROP = """
DROP TRIGGER IF EXISTS tasks_taskevent_append_only ON tasks_taskevent;
DROP FUNCTION IF EXISTS duban_refuse_history_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
