/**
 * Asks for the admin token when the address carried none, or when the hub
 * rejected the one it had.
 */
import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { useState, type FormEvent } from 'react';
import logo from '../../../resources/icon.png';

export interface SignInProps {
  /** True when the hub rejected the token that was tried. */
  rejected: boolean;
  onSubmit(token: string): void;
}

export function SignIn({ rejected, onSubmit }: SignInProps) {
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = token.trim().replace(/^.*#token=/, '');
    if (trimmed) onSubmit(trimmed);
  };

  return (
    <Center mih="100vh" p="md" bg="var(--mantine-color-body)">
      <Paper withBorder shadow="md" p="xl" radius="lg" w={420}>
        <form onSubmit={submit}>
          <Stack>
            <Stack align="center" gap={6}>
              <img src={logo} alt="" width={56} height={56} />
              <Title order={2}>Sign in to Farmboy</Title>
              <Text size="sm" c="dimmed" ta="center">
                Open the address that farmboy-hub printed, or paste its admin token (the part after #token=) here.
              </Text>
            </Stack>
            {rejected && (
              <Alert color="red" icon={<IconAlertTriangle size={18} />} title="Token rejected" role="alert">
                The hub did not accept this admin token. Check it against the one farmboy-hub printed or the admin-token file in its data folder.
              </Alert>
            )}
            <PasswordInput label="Admin token" value={token} onChange={(event) => setToken(event.currentTarget.value)} autoFocus required />
            <Button type="submit" fullWidth>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
